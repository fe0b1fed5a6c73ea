#include <calc.h>
#include <version.h>

const char* calc_version(void) {
  return CALC_VERSION " (" CALC_CODENAME ") built from " __FILE__;
}
