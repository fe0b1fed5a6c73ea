// The lexer's byte-level searches against plain loops: every start offset and length, the
// wanted byte anywhere or nowhere, buffers of exactly the searched size (so the sanitizer
// build catches a read past the end).

#include "depscan/byte_scan.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace ccrex::depscan {
namespace {

size_t find_byte_slowly(const std::vector<char>& text, size_t pos, char c) {
  while (pos < text.size() && text[pos] != c) {
    ++pos;
  }
  return pos;
}

TEST(ByteScan, FindByteMatchesALoop) {
  std::mt19937 rng(4242);
  for (size_t size = 0; size < 80; ++size) {
    for (int round = 0; round < 40; ++round) {
      std::vector<char> text(size);
      for (char& c : text) {
        // Mostly other bytes; sometimes the wanted one, sometimes a byte with the high bit.
        const unsigned r = rng() % 20;
        c = r == 0 ? '\n' : r == 1 ? static_cast<char>(0x8a) : static_cast<char>('a' + r);
      }
      for (size_t pos = 0; pos <= size; ++pos) {
        ASSERT_EQ(bytes::find_byte(text.data(), pos, size, '\n'), find_byte_slowly(text, pos, '\n'))
            << "size " << size << " pos " << pos;
      }
    }
  }
}

TEST(ByteScan, FindByteStopsAtTheLimitGiven) {
  const std::vector<char> text = {'a', 'b', 'c', '\n', 'd'};
  EXPECT_EQ(bytes::find_byte(text.data(), 0, 3, '\n'), 3u);
  EXPECT_EQ(bytes::find_byte(text.data(), 0, 5, '\n'), 3u);
  EXPECT_EQ(bytes::find_byte(text.data(), 4, 5, '\n'), 5u);
}

} // namespace
} // namespace ccrex::depscan
