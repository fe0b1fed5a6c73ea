#include "../util/strutil.h"
#include "options.h"

#include <calc.h>
#include <stdio.h>

int main(void) {
  printf("%d %d %s\n", calc_add(2, 3), calc_mul(6, 7), calc_version());
  printf("%zu %s %s\n", util_count("a,b,c", ','), util_mode(), APP_GREETING);
  return 0;
}
