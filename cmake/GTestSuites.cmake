# Script mode (cmake -D CONFIG=file -P GTestSuites.cmake), run after a gtest binary is
# linked: lists its test suites and writes a ctest include file with one test per suite
# (`<binary> --gtest_filter=<Suite>.*`). CONFIG sets binary, output, labels, extra_suites
# (suite names that also carry extra_label), timeout and environment.
#
# A suite, not a case, is the unit ctest runs: every process of a sanitizer build pays a
# fraction of a second to start, and most cases take far less than that. A suite's cases
# share one process, as they do in a plain run of the binary.
cmake_minimum_required(VERSION 3.25)
include("${CONFIG}")

# Listing runs no test: leak checking at exit would only report third-party static state.
set(ENV{ASAN_OPTIONS} "detect_leaks=0")
execute_process(
  COMMAND "${binary}" --gtest_list_tests
  OUTPUT_VARIABLE listing
  ERROR_VARIABLE errors
  RESULT_VARIABLE result
  TIMEOUT 60)
if(NOT result EQUAL 0)
  file(REMOVE "${output}")
  message(FATAL_ERROR "${binary} --gtest_list_tests failed (${result}):\n${errors}")
endif()

string(REPLACE ";" "\\;" listing "${listing}")
string(REPLACE "\n" ";" lines "${listing}")
set(script "")
set(count 0)
foreach(line IN LISTS lines)
  # Suite lines start in column one and end in '.', maybe followed by "  # TypeParam = ...";
  # case lines are indented. gtest_main's greeting is neither.
  if(NOT line MATCHES "^([A-Za-z_][A-Za-z0-9_/]*)\\.( .*)?$")
    continue()
  endif()
  set(suite "${CMAKE_MATCH_1}")
  set(suite_labels "${labels}")
  if("${suite}" IN_LIST extra_suites)
    list(APPEND suite_labels "${extra_label}")
  endif()
  string(APPEND script
         "add_test([==[${suite}]==] [==[${binary}]==] [==[--gtest_filter=${suite}.*]==])\n"
         "set_tests_properties([==[${suite}]==] PROPERTIES LABELS [==[${suite_labels}]==]"
         " TIMEOUT ${timeout} ENVIRONMENT [==[${environment}]==])\n")
  math(EXPR count "${count} + 1")
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "${binary} lists no test suites")
endif()
file(WRITE "${output}" "${script}")
