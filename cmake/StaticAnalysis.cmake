# CCREX_ENABLE_CLANG_TIDY runs clang-tidy while compiling ccrex's own targets only
# (see ccrex_target()), so generated *.pb.cc files are never analysed.
if(CCREX_ENABLE_CLANG_TIDY)
  find_program(CLANG_TIDY_EXE NAMES clang-tidy-14 clang-tidy REQUIRED)
  set(CCREX_CLANG_TIDY_COMMAND "${CLANG_TIDY_EXE}")
endif()

# Apply ccrex's settings, warnings and analysis to one of our own targets.
function(ccrex_target target)
  target_link_libraries(${target} PRIVATE ccrex_settings ccrex_warnings)
  if(CCREX_CLANG_TIDY_COMMAND)
    set_target_properties(${target} PROPERTIES CXX_CLANG_TIDY "${CCREX_CLANG_TIDY_COMMAND}")
  endif()
endfunction()
