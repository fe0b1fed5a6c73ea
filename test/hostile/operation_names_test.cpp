// Operation names cannot be guessed: 128 bits that all vary, no order between consecutive
// names, and a made-up name leads nowhere.

#include "conformance/execution_support.h"
#include "hostile/hostile_support.h"

#include <gtest/gtest.h>

#include <array>
#include <regex>
#include <set>

namespace ccrex::test {
namespace {

class OperationNames : public ExecutionFixture {
protected:
  bool accepts_client_results() const override { return false; }

  // The name of the operation of one Execute of `digest` on `instance`.
  std::string operation_name(const v2::Digest& digest, const std::string& instance = "") {
    Caller c(plain_channel(server().address()), "");
    std::string name;
    const auto st = c.execute(digest, &name, nullptr, instance);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return name;
  }
};

TEST_F(OperationNames, AreRandom128BitNames) {
  const auto digest = action(command({"/bin/true"}));
  ASSERT_EQ(run_ok(digest).status().code(), 0); // later Executes are cache hits
  constexpr int k_names = 64;
  const std::regex shape("operations/([0-9a-f]{32})");
  std::set<std::string> seen;
  std::array<int, 128> ones{};
  std::string previous;
  for (int i = 0; i < k_names; ++i) {
    const std::string name = operation_name(digest);
    std::smatch m;
    ASSERT_TRUE(std::regex_match(name, m, shape)) << name;
    const std::string hex = m[1];
    EXPECT_TRUE(seen.insert(hex).second) << "repeated name " << name;
    for (size_t bit = 0; bit < 128; ++bit) {
      const int nibble = std::stoi(hex.substr(bit / 4, 1), nullptr, 16);
      ones.at(bit) += (nibble >> (3 - bit % 4)) & 1;
    }
    // Not a counter: the upper half changes from one name to the next.
    if (!previous.empty()) {
      EXPECT_NE(previous.substr(0, 16), hex.substr(0, 16)) << previous << " then " << hex;
    }
    previous = hex;
  }
  for (size_t bit = 0; bit < 128; ++bit) {
    EXPECT_GT(ones.at(bit), 0) << "bit " << bit << " is always 0";
    EXPECT_LT(ones.at(bit), k_names) << "bit " << bit << " is always 1";
  }
}

TEST_F(OperationNames, CarryTheirInstanceAndCannotBeGuessed) {
  const auto digest = action(command({"/bin/true"}));
  const std::string name = operation_name(digest, "team/x");
  EXPECT_TRUE(std::regex_match(name, std::regex("team/x/operations/[0-9a-f]{32}"))) << name;
  Caller c(plain_channel(server().address()), "");
  EXPECT_TRUE(c.wait_execution(name).ok());
  // A neighbour of a real name is unknown.
  std::string guess = name;
  guess.back() = guess.back() == '0' ? '1' : '0';
  EXPECT_EQ(c.wait_execution(guess).error_code(), grpc::StatusCode::NOT_FOUND);
}

} // namespace
} // namespace ccrex::test
