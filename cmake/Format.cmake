# `format` rewrites ccrex's sources with clang-format; `check_format` fails on any difference.
find_program(CLANG_FORMAT_EXE NAMES clang-format-14 clang-format)
if(CLANG_FORMAT_EXE)
  set(_fmt_script "${CMAKE_SOURCE_DIR}/scripts/format.sh")
  add_custom_target(format COMMAND ${_fmt_script} ${CLANG_FORMAT_EXE}
                    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} VERBATIM)
  add_custom_target(check_format COMMAND ${_fmt_script} ${CLANG_FORMAT_EXE} --check
                    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} VERBATIM)
endif()
