#include "depscan/content_hash.h"

#include <cstring>

namespace ccrex::depscan {
namespace {

constexpr uint64_t k_mul_a = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t k_mul_b = 0xbf58476d1ce4e5b9ULL;
constexpr uint64_t k_mul_c = 0x94d049bb133111ebULL;

// Full-avalanche finaliser (the splitmix64 output function).
constexpr uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= k_mul_b;
  x ^= x >> 27;
  x *= k_mul_c;
  x ^= x >> 31;
  return x;
}

uint64_t load64(const char* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

} // namespace

uint64_t content_hash(std::string_view bytes) {
  // Two independent lanes over 16-byte blocks keep the multiplies pipelined.
  uint64_t a = k_mul_a ^ bytes.size();
  uint64_t b = k_mul_c + bytes.size();
  const char* p = bytes.data();
  size_t n = bytes.size();
  for (; n >= 16; n -= 16, p += 16) {
    a = (a ^ mix(load64(p))) * k_mul_a;
    b = (b ^ mix(load64(p + 8))) * k_mul_b;
    a = (a << 29) | (a >> 35);
    b = (b << 31) | (b >> 33);
  }
  char tail[16] = {};
  std::memcpy(tail, p, n);
  a = (a ^ mix(load64(tail) + n)) * k_mul_a;
  b = (b ^ mix(load64(tail + 8))) * k_mul_b;
  return mix(a ^ (b + k_mul_c));
}

std::string content_hash_hex(std::string_view bytes) {
  constexpr char k_hex[] = "0123456789abcdef";
  uint64_t h = content_hash(bytes);
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) {
    out[static_cast<size_t>(i)] = k_hex[h & 0xf];
  }
  return out;
}

} // namespace ccrex::depscan
