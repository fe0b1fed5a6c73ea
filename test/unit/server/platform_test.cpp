#include "server/config.h"
#include "server/platform.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ccrex::server {
namespace {

reapi::v2::Platform platform(std::vector<std::pair<std::string, std::string>> props) {
  reapi::v2::Platform p;
  for (auto& [name, value] : props) {
    auto* prop = p.add_properties();
    prop->set_name(name);
    prop->set_value(value);
  }
  return p;
}

TEST(Platform, MachineNamesMapToReapiIsas) {
  EXPECT_EQ(isa_for_machine("x86_64"), "x86-64");
  EXPECT_EQ(isa_for_machine("i686"), "x86-32");
  EXPECT_EQ(isa_for_machine("aarch64"), "arm-a64");
  EXPECT_EQ(isa_for_machine("armv7l"), "arm-a32");
  EXPECT_EQ(isa_for_machine("ppc64le"), "power-isa-le");
  EXPECT_EQ(isa_for_machine("riscv64"), "rv64g");
  EXPECT_EQ(isa_for_machine("s390x"), "s390x");
}

TEST(Platform, X86ExtensionsNeedEveryCore) {
  const std::string cpuinfo = "processor\t: 0\n"
                              "flags\t\t: fpu sse4_1 sse4_2 avx avx2 avx512f\n"
                              "\n"
                              "processor\t: 1\n"
                              "flags\t\t: fpu sse4_1 sse4_2 avx avx2\n";
  EXPECT_EQ(x86_extensions_from_cpuinfo(cpuinfo),
            (std::vector<std::string>{"x86-avx", "x86-avx2", "x86-sse4.1", "x86-sse4.2"}));
  EXPECT_TRUE(x86_extensions_from_cpuinfo("").empty());
  EXPECT_EQ(x86_extensions_from_cpuinfo("flags : avx512f sse4_2\n"),
            (std::vector<std::string>{"x86-avx-512", "x86-sse4.2"}));
}

TEST(Platform, OfferCombinesSystemMachineAndExtensions) {
  const auto offer = platform_for("Linux", "x86_64", "flags : avx sse4_2\n");
  EXPECT_EQ(offer.at("OSFamily"), std::vector<std::string>{"linux"});
  EXPECT_EQ(offer.at("ISA"), (std::vector<std::string>{"x86-64", "x86-avx", "x86-sse4.2"}));
  const auto arm = platform_for("FreeBSD", "aarch64", "flags : avx\n");
  EXPECT_EQ(arm.at("OSFamily"), std::vector<std::string>{"freebsd"});
  EXPECT_EQ(arm.at("ISA"), std::vector<std::string>{"arm-a64"});
  EXPECT_EQ(describe_offer(offer), "ISA=x86-64, ISA=x86-avx, ISA=x86-sse4.2, OSFamily=linux");
}

TEST(Platform, HostOffersLinuxAndItsArchitecture) {
  const auto host = host_platform();
  ASSERT_EQ(host.count("OSFamily"), 1U);
  EXPECT_EQ(host.at("OSFamily"), std::vector<std::string>{"linux"});
  ASSERT_EQ(host.count("ISA"), 1U);
  ASSERT_FALSE(host.at("ISA").empty());
#if defined(__x86_64__)
  EXPECT_EQ(host.at("ISA").front(), "x86-64");
  // Every x86-64 CPU Debian 12 runs on has SSE4.x or not; whatever it lists is a known name.
  for (const auto& isa : host.at("ISA")) {
    EXPECT_EQ(isa.rfind("x86-", 0), 0U) << isa;
  }
#endif
}

TEST(Platform, CheckAcceptsOfferedPropertiesIncludingRepeatedIsa) {
  const PlatformOffer offer{{"ISA", {"x86-64", "x86-avx2"}}, {"OSFamily", {"linux"}}};
  EXPECT_TRUE(check_platform(platform({}), offer, false));
  EXPECT_TRUE(check_platform(
      platform({{"ISA", "x86-64"}, {"ISA", "x86-avx2"}, {"OSFamily", "linux"}}), offer, false));
}

TEST(Platform, CheckRejectsUnknownNamesUnlessLenient) {
  const PlatformOffer offer{{"OSFamily", {"linux"}}};
  const auto st = check_platform(platform({{"container-image", "docker://x"}}), offer, false);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), util::ErrorCode::invalid_argument);
  EXPECT_NE(st.error().message().find("container-image"), std::string::npos);
  EXPECT_TRUE(check_platform(platform({{"container-image", "docker://x"}}), offer, true));
}

TEST(Platform, CheckReportsUnsatisfiableValuesWithTheOffer) {
  const PlatformOffer offer{{"ISA", {"x86-64"}}, {"OSFamily", {"linux"}}};
  const auto st = check_platform(platform({{"ISA", "arm-a64"}}), offer, true);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), util::ErrorCode::failed_precondition);
  EXPECT_EQ(st.error().message(),
            "no worker offers ISA=arm-a64; this server offers ISA=x86-64, OSFamily=linux");
}

} // namespace
} // namespace ccrex::server
