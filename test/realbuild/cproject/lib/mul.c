#include "internal.h"

#include <calc.h>

int calc_mul(int a, int b) {
  int r = 0;
  for (int i = 0; i < b; ++i) {
    r = calc_add(r, a);
  }
  return r;
}
