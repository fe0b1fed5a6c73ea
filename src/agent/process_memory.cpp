#include "agent/process_memory.h"

#include <malloc.h>

#include <cstdlib>

namespace ccrex::agent {

void limit_heap_arenas(int arenas) {
#if defined(__GLIBC__)
  // The environment is read before main() and not changed by any thread yet.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr     // NOLINT(concurrency-mt-unsafe)
      && std::getenv("GLIBC_TUNABLES") == nullptr) { // NOLINT(concurrency-mt-unsafe)
    ::mallopt(M_ARENA_MAX, arenas);
  }
#else
  (void)arenas;
#endif
}

void release_free_memory() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

} // namespace ccrex::agent
