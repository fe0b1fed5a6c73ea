// The agent's heap: no more malloc arenas than it allows, however many threads allocate at
// once.
#include "agent/process_memory.h"

#include <gtest/gtest.h>

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace ccrex::agent {
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

TEST(HeapArenas, ManyThreadsAllocatingAtOnceShareTheArenasAllowed) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's allocator replaces glibc's arenas";
#endif
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr || std::getenv("GLIBC_TUNABLES") != nullptr) {
    GTEST_SKIP() << "the environment sets the arenas itself";
  }
  // In a child: this process's earlier threads may have made arenas already.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (heap_arena_count() != 1) {
      ::_exit(100); // not a fresh heap: nothing to learn here
    }
    limit_heap_arenas(1); // a machine with few cores may not make four arenas anyway
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 12; ++t) {
      threads.emplace_back([&ready] {
        ready.fetch_add(1);
        while (ready.load() < 12) {
        }
        std::vector<void*> held(64, nullptr);
        for (int i = 0; i < 20000; ++i) {
          void*& slot = held[static_cast<size_t>(i) % held.size()];
          std::free(slot); // NOLINT(cppcoreguidelines-no-malloc)
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
    ::_exit(heap_arena_count());
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 100) {
    GTEST_SKIP() << "the heap had more than one arena before the test";
  }
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

} // namespace
} // namespace ccrex::agent
