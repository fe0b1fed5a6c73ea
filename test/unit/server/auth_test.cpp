// The token file format and the role decisions of Access, without a network.

#include "server/auth.h"
#include "util/sha256.h"

#include <gtest/gtest.h>

namespace ccrex::server {
namespace {

std::string hashed(const std::string& token) {
  return "sha256:" + util::sha256_hex(token);
}

TEST(TokenFile, ParsesGrants) {
  const std::string text = "# comment line\n\n" + hashed("a")
                           + "  instance=*\troles=read,execute  name=ci   # trailing comment\n"
                           + hashed("b") + " roles=write-ac instance=\n";
  auto grants = parse_token_file(text, "tokens");
  ASSERT_TRUE(grants) << grants.error().message();
  ASSERT_EQ(grants->size(), 2U);
  EXPECT_EQ((*grants)[0].token_sha256, util::sha256_hex("a"));
  EXPECT_EQ((*grants)[0].instance, "*");
  EXPECT_EQ((*grants)[0].roles,
            static_cast<unsigned>(Role::read) | static_cast<unsigned>(Role::execute));
  EXPECT_EQ((*grants)[0].name, "ci");
  EXPECT_EQ((*grants)[1].instance, "");
  EXPECT_EQ((*grants)[1].roles, static_cast<unsigned>(Role::write_ac));
  EXPECT_EQ((*grants)[1].name, "line 4");
}

TEST(TokenFile, MistakesNameTheLine) {
  const std::string h = hashed("t");
  for (const std::string& line :
       {std::string("secret instance=* roles=read"),
        std::string("sha256:ABC instance=* roles=read"),
        "sha256:" + util::sha256_hex("t").substr(1) + " instance=* roles=read",
        h + " instance=* roles=",
        h + " instance=* roles=read,root",
        h + " roles=read",
        h + " instance=*",
        h + " instance=* roles=read colour=blue",
        h + " instance=* roles=read stray"}) {
    auto grants = parse_token_file("# first\n" + line + "\n", "/etc/ccrex/tokens");
    ASSERT_FALSE(grants) << line;
    EXPECT_EQ(grants.error().message().rfind("/etc/ccrex/tokens:2: ", 0), 0U)
        << grants.error().message();
  }
}

TEST(RoleNames, AreTheFileSpelling) {
  EXPECT_EQ(role_name(Role::read), "read");
  EXPECT_EQ(role_name(Role::write_cas), "write-cas");
  EXPECT_EQ(role_name(Role::write_ac), "write-ac");
  EXPECT_EQ(role_name(Role::execute), "execute");
  EXPECT_EQ(role_name(Role::write_asset), "write-asset");
}

} // namespace
} // namespace ccrex::server
