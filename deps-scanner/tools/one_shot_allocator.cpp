#include "tools/one_shot_allocator.h"

#include <sys/mman.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <new>

// Address and thread sanitizers need to see every allocation: keep the standard operators
// there, and enable() then reports failure.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#  define CCREX_ONE_SHOT_ALLOCATOR 0
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#    define CCREX_ONE_SHOT_ALLOCATOR 0
#  endif
#endif
#ifndef CCREX_ONE_SHOT_ALLOCATOR
#  define CCREX_ONE_SHOT_ALLOCATOR 1
#endif

namespace ccrex::depscan::tools {
namespace {

// Address space only: pages are materialised when first touched, and a one-shot scan
// touches a few MiB of it.
constexpr size_t k_reserve = size_t{1} << 30;
constexpr size_t k_align = __STDCPP_DEFAULT_NEW_ALIGNMENT__;
constexpr size_t k_huge_page = size_t{2} << 20;

// The arena is [g_begin, g_begin + g_size); g_begin is null until enable(). Both are written
// once, before other threads exist, and only read afterwards.
char* g_begin = nullptr; // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
size_t g_size = 0;       // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
std::atomic<size_t> g_used{0};

bool in_arena(const void* p) {
  return std::greater_equal<>{}(p, g_begin) && std::less<>{}(p, g_begin + g_size);
}

// Unused in sanitizer builds, where the operators below are not replaced.
[[maybe_unused]] void* allocate(size_t size) {
  if (g_begin != nullptr) {
    // Round up to the alignment; a zero-byte request still gets a unique address.
    const size_t rounded = size == 0 ? k_align : (size + k_align - 1) & ~(k_align - 1);
    const size_t offset = g_used.fetch_add(rounded, std::memory_order_relaxed);
    if (rounded >= size && offset <= g_size && g_size - offset >= rounded) {
      return g_begin + offset;
    }
  }
  void* p = std::malloc(size == 0 ? 1 : size); // NOLINT(cppcoreguidelines-no-malloc)
  if (p == nullptr) {
    throw std::bad_alloc();
  }
  return p;
}

[[maybe_unused]] void release(void* p) noexcept {
  if (p != nullptr && (g_begin == nullptr || !in_arena(p))) {
    std::free(p); // NOLINT(cppcoreguidelines-no-malloc)
  }
}

} // namespace

bool enable_one_shot_allocator() {
  if (CCREX_ONE_SHOT_ALLOCATOR == 0 || g_begin != nullptr) {
    return false;
  }
  void* base = ::mmap(nullptr,
                      k_reserve,
                      PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                      -1,
                      0);
  if (base == MAP_FAILED) {
    return false;
  }
  // Huge pages where the kernel offers them on request: a scan then takes a couple of page
  // faults for its memory instead of several hundred.
  static_cast<void>(::madvise(base, k_reserve, MADV_HUGEPAGE));
  // Start at the first huge-page boundary, so that the first bytes handed out get one too.
  char* const start = static_cast<char*>(base);
  const size_t skip = (k_huge_page - reinterpret_cast<uintptr_t>(base) % k_huge_page) % k_huge_page;
  g_begin = start + skip;
  g_size = k_reserve - skip;
  return true;
}

} // namespace ccrex::depscan::tools

#if CCREX_ONE_SHOT_ALLOCATOR
// The replaceable global operators. new[]/delete[] and the nothrow forms forward to these;
// the over-aligned forms keep the standard implementation and never see the arena.
void* operator new(std::size_t size) {
  return ccrex::depscan::tools::allocate(size);
}
void operator delete(void* p) noexcept {
  ccrex::depscan::tools::release(p);
}
void operator delete(void* p, std::size_t /*size*/) noexcept {
  ccrex::depscan::tools::release(p);
}
#endif
