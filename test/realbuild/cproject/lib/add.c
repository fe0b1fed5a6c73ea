#include "../include/calc.h"
#include "internal.h"

int calc_add(int a, int b) {
  return CALC_CLAMP(a + b);
}
