// The agent's one hang-up watcher: a compile is cancelled when its client goes away, and
// only then, and only that compile.
#include "agent/hangup_watcher.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

namespace ccrex::agent {
namespace {

using namespace std::chrono_literals;

// A connected pair of stream sockets, as a client connection is.
struct SocketPair {
  SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0); }
  ~SocketPair() {
    close_client();
    close_agent();
  }
  void close_client() {
    if (fds[1] >= 0) {
      ::close(fds[1]);
      fds[1] = -1;
    }
  }
  void close_agent() {
    if (fds[0] >= 0) {
      ::close(fds[0]);
      fds[0] = -1;
    }
  }
  int agent() const { return fds[0]; }
  int fds[2] = {-1, -1};
};

bool becomes_cancelled(const util::Cancellation& cancel) {
  for (int i = 0; i < 500 && !cancel.cancelled(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  return cancel.cancelled();
}

TEST(HangupWatcher, AClientThatHangsUpCancelsItsCompileOnly) {
  HangupWatcher watcher;
  SocketPair gone;
  SocketPair stays;
  util::Cancellation gone_cancel;
  util::Cancellation stays_cancel;
  const auto w1 = watcher.watch(gone.agent(), gone_cancel);
  const auto w2 = watcher.watch(stays.agent(), stays_cancel);
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(gone_cancel.cancelled());
  gone.close_client();
  EXPECT_TRUE(becomes_cancelled(gone_cancel));
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(stays_cancel.cancelled());
}

TEST(HangupWatcher, AnEndedWatchCancelsNothingEvenWhenItsDescriptorIsReused) {
  HangupWatcher watcher;
  util::Cancellation first_cancel;
  int reused = -1;
  {
    SocketPair first;
    const auto watch = watcher.watch(first.agent(), first_cancel);
    reused = first.agent();
  }                  // the watch ends, then both ends are closed
  SocketPair second; // most likely gets the same descriptor numbers
  util::Cancellation second_cancel;
  const auto watch = watcher.watch(second.agent(), second_cancel);
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(first_cancel.cancelled());
  EXPECT_FALSE(second_cancel.cancelled()) << "descriptor " << reused << " reused";
  second.close_client();
  EXPECT_TRUE(becomes_cancelled(second_cancel));
  EXPECT_FALSE(first_cancel.cancelled());
}

TEST(HangupWatcher, ManyCompilesAtOnce) {
  HangupWatcher watcher;
  constexpr int k_count = 64;
  std::vector<std::unique_ptr<SocketPair>> pairs;
  std::vector<std::unique_ptr<util::Cancellation>> cancels;
  std::vector<HangupWatcher::Watch> watches;
  for (int i = 0; i < k_count; ++i) {
    pairs.push_back(std::make_unique<SocketPair>());
    cancels.push_back(std::make_unique<util::Cancellation>());
    watches.push_back(watcher.watch(pairs.back()->agent(), *cancels.back()));
  }
  for (int i = 0; i < k_count; i += 2) {
    pairs[static_cast<size_t>(i)]->close_client();
  }
  for (int i = 0; i < k_count; ++i) {
    if (i % 2 == 0) {
      EXPECT_TRUE(becomes_cancelled(*cancels[static_cast<size_t>(i)])) << i;
    }
  }
  std::this_thread::sleep_for(100ms);
  for (int i = 1; i < k_count; i += 2) {
    EXPECT_FALSE(cancels[static_cast<size_t>(i)]->cancelled()) << i;
  }
  watches.clear();
}

} // namespace
} // namespace ccrex::agent
