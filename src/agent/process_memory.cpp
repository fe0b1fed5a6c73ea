#include "agent/process_memory.h"

#include <malloc.h>

namespace ccrex::agent {

void limit_allocator_arenas() {
#if defined(__GLIBC__)
  ::mallopt(M_ARENA_MAX, 2);
#endif
}

void release_free_memory() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

} // namespace ccrex::agent
