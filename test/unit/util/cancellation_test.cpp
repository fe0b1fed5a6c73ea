#include "util/cancellation.h"

#include <gtest/gtest.h>

#include <thread>

namespace ccrex::util {
namespace {

TEST(Cancellation, CallbacksRunOnceWhileSubscribed) {
  Cancellation c;
  int first = 0;
  int gone = 0;
  auto keep = c.subscribe([&] { ++first; });
  {
    auto dropped = c.subscribe([&] { ++gone; });
  }
  EXPECT_FALSE(c.cancelled());
  std::thread other([&] { c.cancel(); });
  other.join();
  c.cancel();
  EXPECT_TRUE(c.cancelled());
  EXPECT_TRUE(c.flag()->load());
  EXPECT_EQ(first, 1);
  EXPECT_EQ(gone, 0);
}

TEST(Cancellation, SubscribingAfterCancelRunsAtOnce) {
  Cancellation c;
  c.cancel();
  int ran = 0;
  auto sub = c.subscribe([&] { ++ran; });
  EXPECT_EQ(ran, 1);
}

TEST(Cancellation, MovedSubscriptionStaysSubscribedOnce) {
  Cancellation c;
  int ran = 0;
  Cancellation::Subscription outer;
  {
    auto inner = c.subscribe([&] { ++ran; });
    outer = std::move(inner);
  }
  c.cancel();
  EXPECT_EQ(ran, 1);
}

} // namespace
} // namespace ccrex::util
