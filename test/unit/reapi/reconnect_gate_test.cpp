#include "reapi/reconnect_gate.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace ccrex::reapi {
namespace {

using namespace std::chrono_literals;

class ReconnectGateTest : public ::testing::Test {
protected:
  std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};
  double random = 0.5; // no jitter

  ReconnectClock clock() {
    ReconnectClock c;
    c.now = [this] { return now; };
    c.random = [this] { return random; };
    return c;
  }

  static ReconnectPolicy policy() {
    ReconnectPolicy p;
    p.initial_delay = 100ms;
    p.multiplier = 2.0;
    p.max_delay = 1000ms;
    p.jitter = 0.2;
    return p;
  }

  // Close `gate` with one failed call.
  static void close(ReconnectGate& gate) {
    auto pass = gate.enter();
    ASSERT_TRUE(pass);
    pass->unreachable();
    ASSERT_TRUE(gate.closed());
  }
};

TEST_F(ReconnectGateTest, AnOpenGateLetsEveryCallThrough) {
  ReconnectGate gate(policy(), clock());
  std::vector<ReconnectGate::Pass> passes;
  for (int i = 0; i < 200; ++i) {
    auto pass = gate.enter();
    ASSERT_TRUE(pass);
    EXPECT_FALSE(pass->probe());
    passes.push_back(std::move(*pass));
  }
  for (auto& p : passes) {
    p.reachable();
  }
  EXPECT_FALSE(gate.closed());
  EXPECT_EQ(gate.probes(), 0U);
}

TEST_F(ReconnectGateTest, AClosedGateRefusesAtOnceUntilTheDelayHasPassed) {
  ReconnectGate gate(policy(), clock());
  close(gate);
  for (int i = 0; i < 200; ++i) {
    auto refused = gate.enter();
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), util::ErrorCode::unavailable);
  }
  EXPECT_TRUE(gate.refusing());
  now += 99ms;
  EXPECT_FALSE(gate.enter());
  now += 1ms;
  EXPECT_FALSE(gate.refusing());
  auto probe = gate.enter();
  ASSERT_TRUE(probe);
  EXPECT_TRUE(probe->probe());
}

TEST_F(ReconnectGateTest, OneProbeAtATimeHoweverManyCallersWait) {
  ReconnectGate gate(policy(), clock());
  close(gate);
  now += 10s;
  auto probe = gate.enter();
  ASSERT_TRUE(probe);
  int let_through = 0;
  for (int i = 0; i < 200; ++i) {
    let_through += gate.enter() ? 1 : 0;
  }
  EXPECT_EQ(let_through, 0) << "calls went out beside the probe";
  EXPECT_EQ(gate.probes(), 1U);
  probe->reachable();
  EXPECT_FALSE(gate.closed());
  auto after = gate.enter();
  ASSERT_TRUE(after);
  EXPECT_FALSE(after->probe());
}

TEST_F(ReconnectGateTest, FailedProbesBackOffExponentiallyUpToTheCap) {
  ReconnectGate backing(policy(), clock());
  close(backing);
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 6; ++i) {
    const auto start = now;
    std::optional<util::Result<ReconnectGate::Pass>> probe;
    for (;;) {
      auto p = backing.enter();
      if (p) {
        probe.emplace(std::move(p));
        break;
      }
      now += 1ms;
    }
    delays.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(now - start));
    (*probe)->unreachable();
  }
  EXPECT_EQ(delays,
            (std::vector<std::chrono::milliseconds>{100ms, 200ms, 400ms, 800ms, 1000ms, 1000ms}));
  EXPECT_EQ(backing.probes(), 6U);
}

TEST_F(ReconnectGateTest, DelaysAreJittered) {
  for (const double r : {0.0, 0.999}) {
    random = r;
    ReconnectGate gate(policy(), clock());
    const auto start = now;
    close(gate);
    while (!gate.enter()) {
      now += 1ms;
    }
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
    if (r == 0.0) {
      EXPECT_EQ(waited, 80ms);
    } else {
      EXPECT_GE(waited, 119ms);
      EXPECT_LE(waited, 120ms);
    }
  }
}

TEST_F(ReconnectGateTest, OnlyTheFirstFailureOfCallsInFlightCloses) {
  ReconnectGate gate(policy(), clock());
  std::vector<ReconnectGate::Pass> in_flight;
  for (int i = 0; i < 50; ++i) {
    in_flight.push_back(gate.enter().value());
  }
  in_flight[0].unreachable();
  now += 100ms; // the first probe is due
  auto probe = gate.enter();
  ASSERT_TRUE(probe);
  // The other calls of the same moment fail too; they neither push the probe back nor
  // close the gate again once the probe opened it.
  for (size_t i = 1; i < 25; ++i) {
    in_flight[i].unreachable();
  }
  probe->reachable();
  EXPECT_FALSE(gate.closed());
  for (size_t i = 25; i < in_flight.size(); ++i) {
    in_flight[i].unreachable();
  }
  EXPECT_FALSE(gate.closed()) << "a failure from before the engine came back closed the gate";
}

TEST_F(ReconnectGateTest, AProbeWithoutVerdictGivesItsTurnBack) {
  ReconnectGate gate(policy(), clock());
  close(gate);
  now += 100ms;
  {
    auto probe = gate.enter();
    ASSERT_TRUE(probe);
    EXPECT_FALSE(gate.enter());
  } // timed out or cancelled: says nothing about the engine
  auto next = gate.enter();
  ASSERT_TRUE(next);
  EXPECT_TRUE(next->probe());
  EXPECT_TRUE(gate.closed());
}

} // namespace
} // namespace ccrex::reapi
