#include "agent/process_memory.h"

#include <malloc.h>

namespace ccrex::agent {

void release_free_memory() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

} // namespace ccrex::agent
