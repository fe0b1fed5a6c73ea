option(CCREX_UNITY_TESTS "Compile the test binaries' sources in batches (unity build)" ON)

# ccrex_add_gtest(NAME SOURCES files... LIBS libs... LABEL label [TIMEOUT seconds]
#                 [ENVIRONMENT vars...] [EXTRA_LABEL suites label])
#
# One gtest binary per library; each test suite becomes a ctest test (named after the suite)
# with the label, run as `NAME --gtest_filter=Suite.*`. TIMEOUT (default 120 s) is for one
# case: a suite gets three times that. With EXTRA_LABEL, the suites named in the gtest
# filter (e.g. "LyingEngine.*:Sandbox.*") carry a second label as well.
function(ccrex_add_gtest name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;LIBS;ENVIRONMENT;EXTRA_LABEL" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  # Test files share their heavy headers (gtest, gRPC, the generated REAPI code), whose
  # parsing is most of each file's compile time: compile them twelve at a time as one unit.
  if(CCREX_UNITY_TESTS)
    set_target_properties(${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 12)
  endif()
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}/test")
  ccrex_target(${name})

  set(extra_suites "")
  set(extra_label "")
  if(ARG_EXTRA_LABEL)
    list(GET ARG_EXTRA_LABEL 0 filter)
    list(GET ARG_EXTRA_LABEL 1 extra_label)
    string(REPLACE ".*" "" filter "${filter}")
    string(REPLACE ":" ";" extra_suites "${filter}")
  endif()
  math(EXPR suite_timeout "${ARG_TIMEOUT} * 3")
  # The suites are listed once the binary is linked (cmake/GTestSuites.cmake); ctest reads
  # the list through an include file that reports a binary not built yet as a failing test.
  set(dir "${CMAKE_CURRENT_BINARY_DIR}")
  file(
    GENERATE
    OUTPUT "${dir}/${name}_suites_config.cmake"
    CONTENT
      "set(binary [==[$<TARGET_FILE:${name}>]==])
set(output [==[${dir}/${name}_suites.cmake]==])
set(labels [==[${ARG_LABEL}]==])
set(extra_suites [==[${extra_suites}]==])
set(extra_label [==[${extra_label}]==])
set(timeout ${suite_timeout})
set(environment [==[${ARG_ENVIRONMENT}]==])
")
  add_custom_command(
    TARGET ${name}
    POST_BUILD
    COMMAND "${CMAKE_COMMAND}" -D "CONFIG=${dir}/${name}_suites_config.cmake" -P
            "${PROJECT_SOURCE_DIR}/cmake/GTestSuites.cmake"
    VERBATIM)
  file(WRITE "${dir}/${name}_include.cmake"
       "if(EXISTS [==[${dir}/${name}_suites.cmake]==])\n"
       "  include([==[${dir}/${name}_suites.cmake]==])\n"
       "else()\n"
       "  add_test(${name}_NOT_BUILT ${name}_NOT_BUILT)\n"
       "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${dir}/${name}_include.cmake")
endfunction()
