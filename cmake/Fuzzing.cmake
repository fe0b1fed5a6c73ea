# Fuzzing: libFuzzer targets in test/fuzz, built only with clang and only on request.
#
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCCREX_ENABLE_FUZZERS=ON
#
# When enabled, ccrex's own code (everything that links ccrex_settings) is compiled with
# coverage instrumentation for libFuzzer plus AddressSanitizer and UBSan; generated
# protobuf code is left uninstrumented to keep the build short. With GCC, or with the
# option off, no fuzz target exists and CCREX_FUZZING is OFF; test/fuzz then only
# registers test/fuzz/run_fuzzers.sh, which builds its own clang tree.
option(CCREX_ENABLE_FUZZERS "Build the libFuzzer targets in test/fuzz (clang only)" OFF)

set(CCREX_FUZZING OFF)
if(CCREX_ENABLE_FUZZERS)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    set(CCREX_FUZZING ON)
    target_compile_options(
      ccrex_settings INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                               -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(ccrex_settings INTERFACE -fsanitize=address,undefined)
  else()
    message(WARNING "CCREX_ENABLE_FUZZERS needs clang (found ${CMAKE_CXX_COMPILER_ID}); "
                    "no fuzz targets are built")
  endif()
endif()

# ccrex_add_fuzzer(NAME SOURCES files... LIBS libs...)
#
# One libFuzzer executable (libFuzzer provides main()).
function(ccrex_add_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS})
  ccrex_target(${name})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
endfunction()
