char c = '"';
const char* t = "#include <not.h>";
#include "a/b/c.h" // trailing
