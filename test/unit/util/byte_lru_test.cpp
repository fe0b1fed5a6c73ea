#include "util/byte_lru.h"

#include <gtest/gtest.h>

#include <string>

namespace ccrex::util {
namespace {

using Lru = ByteLru<std::string, int>;

TEST(ByteLru, BoundHoldsInBytes) {
  Lru lru(100);
  for (int i = 0; i < 50; ++i) {
    EXPECT_TRUE(lru.put("k" + std::to_string(i), i, 30));
    EXPECT_LE(lru.bytes(), 100U);
  }
  EXPECT_EQ(lru.size(), 3U);
  EXPECT_EQ(lru.bytes(), 90U);
}

TEST(ByteLru, LeastRecentlyUsedGoesFirst) {
  Lru lru(100);
  lru.put("a", 1, 40);
  lru.put("b", 2, 40);
  lru.put("c", 3, 40); // over: "a", the oldest, goes
  EXPECT_EQ(lru.find("a"), nullptr);
  ASSERT_NE(lru.find("b"), nullptr);
  EXPECT_EQ(*lru.find("b"), 2);
  ASSERT_NE(lru.find("c"), nullptr);
}

TEST(ByteLru, EntryInUseSurvivesNewOnes) {
  Lru lru(100);
  lru.put("warm", 1, 40);
  for (int i = 0; i < 10; ++i) {
    ASSERT_NE(lru.find("warm"), nullptr) << i; // used before every new entry
    lru.put("cold" + std::to_string(i), i, 40);
  }
  ASSERT_NE(lru.find("warm"), nullptr);
  EXPECT_EQ(*lru.find("warm"), 1);
  EXPECT_EQ(lru.find("cold8"), nullptr);
  EXPECT_NE(lru.find("cold9"), nullptr);
}

TEST(ByteLru, ReplacingAnEntryCountsItsNewSize) {
  Lru lru(100);
  lru.put("a", 1, 60);
  lru.put("a", 2, 10);
  EXPECT_EQ(lru.bytes(), 10U);
  EXPECT_EQ(*lru.find("a"), 2);
  lru.put("b", 3, 90);
  EXPECT_EQ(lru.bytes(), 100U);
  EXPECT_EQ(lru.size(), 2U);
}

TEST(ByteLru, EntryLargerThanTheBoundIsNotKeptAndEvictsNothing) {
  Lru lru(100);
  lru.put("a", 1, 50);
  EXPECT_FALSE(lru.put("huge", 2, 101));
  EXPECT_EQ(lru.find("huge"), nullptr);
  EXPECT_NE(lru.find("a"), nullptr);
  EXPECT_EQ(lru.bytes(), 50U);
}

TEST(ByteLru, EraseAndClear) {
  Lru lru(100);
  lru.put("a", 1, 50);
  lru.put("b", 2, 20);
  lru.erase("a");
  lru.erase("missing");
  EXPECT_EQ(lru.bytes(), 20U);
  lru.clear();
  EXPECT_EQ(lru.size(), 0U);
  EXPECT_EQ(lru.bytes(), 0U);
  EXPECT_EQ(lru.find("b"), nullptr);
}

} // namespace
} // namespace ccrex::util
