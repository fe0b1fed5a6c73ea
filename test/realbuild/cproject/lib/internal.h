#pragma once
#include <limits.h>
#define CALC_CLAMP(x) ((x) > INT_MAX / 2 ? INT_MAX / 2 : (x))
