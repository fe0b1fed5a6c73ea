# ccrex_warnings: the warning set for ccrex's own code. Generated code does not get it.
add_library(ccrex_warnings INTERFACE)
target_compile_options(
  ccrex_warnings
  INTERFACE -Wall
            -Wextra
            -Wpedantic
            -Wshadow
            -Wnon-virtual-dtor
            -Woverloaded-virtual
            -Wcast-align
            $<$<CXX_COMPILER_ID:Clang>:-Wthread-safety>)
if(CCREX_WARNINGS_AS_ERRORS)
  target_compile_options(ccrex_warnings INTERFACE -Werror)
endif()
