// ccrex-test-heap-arenas: how many malloc arenas a fresh process ends up with when it
// calls limit_heap_arenas(N) and twelve threads then allocate at once. Test-only, never
// installed, and never built with a sanitizer: AddressSanitizer's allocator replaces
// glibc's arenas, so the agent's own tests, which run instrumented, could not see them.
//
//   ccrex-test-heap-arenas N
//
// Prints "before B" (the arenas at start: 1 for a fresh heap) and "after A" (after the
// threads), one per line, and exits 0; 2 for a bad argument.

#include "agent/process_memory.h"

#include <malloc.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

// How many heaps (arenas) malloc has, as malloc_info lists them.
int heap_arena_count() {
  char* text = nullptr;
  size_t size = 0;
  FILE* out = ::open_memstream(&text, &size);
  if (out == nullptr) {
    return -1;
  }
  ::malloc_info(0, out);
  std::fclose(out);
  const std::string info(text, size);
  std::free(text); // NOLINT(cppcoreguidelines-no-malloc)
  int count = 0;
  for (size_t pos = info.find("<heap nr="); pos != std::string::npos;
       pos = info.find("<heap nr=", pos + 1)) {
    ++count;
  }
  return count;
}

} // namespace

int main(int argc, char** argv) {
  const int allowed = argc == 2 ? std::atoi(argv[1]) : 0;
  if (allowed < 1) {
    std::fprintf(stderr, "usage: ccrex-test-heap-arenas ARENAS\n");
    return 2;
  }
  std::printf("before %d\n", heap_arena_count());
  ccrex::agent::limit_heap_arenas(allowed);
  constexpr int k_threads = 12;
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&ready] {
      ready.fetch_add(1);
      while (ready.load() < k_threads) {
      }
      std::vector<void*> held(64, nullptr);
      for (int i = 0; i < 20000; ++i) {
        void*& slot = held[static_cast<size_t>(i) % held.size()];
        std::free(slot);                                               // NOLINT
        slot = std::malloc(static_cast<size_t>(16 + (i * 37) % 2000)); // NOLINT
      }
      for (void* p : held) {
        std::free(p); // NOLINT(cppcoreguidelines-no-malloc)
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::printf("after %d\n", heap_arena_count());
  return 0;
}
