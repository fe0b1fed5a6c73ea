include(GoogleTest)

option(CCREX_UNITY_TESTS "Compile the test binaries' sources in batches (unity build)" ON)

# ccrex_add_gtest(NAME SOURCES files... LIBS libs... LABEL label [TIMEOUT seconds]
#                 [EXTRA_LABEL gtest-filter label])
#
# One gtest binary per library; each test case becomes a ctest test with the label. With
# EXTRA_LABEL, the test cases matching the gtest filter (e.g. "LyingEngine.*") carry a
# second label as well.
function(ccrex_add_gtest name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;LIBS;ENVIRONMENT;EXTRA_LABEL" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  # Test files share their heavy headers (gtest, gRPC, the generated REAPI code), whose
  # parsing is most of each file's compile time: compile them a few at a time as one unit.
  if(CCREX_UNITY_TESTS)
    set_target_properties(${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 6)
  endif()
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}/test")
  ccrex_target(${name})
  if(ARG_EXTRA_LABEL)
    list(GET ARG_EXTRA_LABEL 0 filter)
    list(GET ARG_EXTRA_LABEL 1 extra)
    gtest_discover_tests(
      ${name}
      DISCOVERY_TIMEOUT 60
      TEST_FILTER "${filter}"
      TEST_LIST ${name}_extra_label_tests
      PROPERTIES LABELS "${ARG_LABEL}" TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "${ARG_ENVIRONMENT}")
    # A label list does not survive gtest_discover_tests' PROPERTIES: set it from a ctest
    # include file that runs after the discovered tests were added.
    set(script "${CMAKE_CURRENT_BINARY_DIR}/${name}_extra_label.cmake")
    file(WRITE "${script}"
         "if(${name}_extra_label_tests)\n"
         "  set_tests_properties(\${${name}_extra_label_tests}\n"
         "                       PROPERTIES LABELS \"${ARG_LABEL};${extra}\")\n"
         "endif()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${script}")
    set(filter "-${filter}")
  else()
    set(filter "*")
  endif()
  gtest_discover_tests(
    ${name}
    DISCOVERY_TIMEOUT 60
    TEST_FILTER "${filter}"
    PROPERTIES LABELS "${ARG_LABEL}" TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "${ARG_ENVIRONMENT}")
endfunction()
