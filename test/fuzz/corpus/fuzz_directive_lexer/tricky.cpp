// #include "no.h"
/* #include <no2.h> */
  #  include_next <next.h>
%:import "imp.h"
#inc\
lude <spliced.h>
#if __has_include(<opt.h>) && __has_include_next("n.h")
#include MACRO_HEADER
#endif
const char* s = R"x(
#include <in_raw.h>
)x";
int n = 1'000;
#include "after.h"
