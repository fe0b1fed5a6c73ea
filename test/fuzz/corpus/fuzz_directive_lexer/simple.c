#include <stdio.h>
#include "local.h"
int main(void) { return 0; }
