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
            $<$<CXX_COMPILER_ID:Clang>:-Wthread-safety>
            # GCC 12 at -O2 reports false -Wrestrict positives inside libstdc++'s std::string
            # (GCC bug 105329) and false -Wmaybe-uninitialized ones through std::variant
            # (our Result); both stay on in the unoptimised builds where they are reliable.
            $<$<AND:$<CXX_COMPILER_ID:GNU>,$<NOT:$<CONFIG:Debug>>>:-Wno-restrict
            -Wno-maybe-uninitialized>)
if(CCREX_WARNINGS_AS_ERRORS)
  target_compile_options(ccrex_warnings INTERFACE -Werror)
endif()
