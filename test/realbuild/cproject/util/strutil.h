#pragma once
#include <stddef.h>
size_t util_count(const char* s, char c);
const char* util_mode(void);
