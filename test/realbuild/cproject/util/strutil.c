#include "strutil.h"

#ifndef UTIL_MODE
#  error "UTIL_MODE must be defined"
#endif

size_t util_count(const char* s, char c) {
  size_t n = 0;
  for (; *s; ++s) {
    n += *s == c;
  }
  return n;
}

#define STR2(x) #x
#define STR(x) STR2(x)
const char* util_mode(void) {
  return "mode " STR(UTIL_MODE) " " UTIL_NAME;
}
