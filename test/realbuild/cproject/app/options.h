#pragma once
#ifdef APP_LOUD
#  define APP_GREETING "HELLO"
#else
#  define APP_GREETING "hello"
#endif
