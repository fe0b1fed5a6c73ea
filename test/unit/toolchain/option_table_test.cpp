#include "toolchain/option_table.h"

#include <gtest/gtest.h>

#include <string>

namespace ccrex::toolchain {
namespace {

using namespace option_flag;

TEST(OptionTable, IsSortedAndUnique) {
  const auto table = option_table();
  ASSERT_FALSE(table.empty());
  for (size_t i = 1; i < table.size(); ++i) {
    EXPECT_LT(table[i - 1].name, table[i].name)
        << "entry " << i << " (" << table[i].name << ") is out of order or duplicated";
  }
}

TEST(OptionTable, FlagsAreConsistent) {
  for (const auto& option : option_table()) {
    SCOPED_TRACE(std::string(option.name));
    EXPECT_TRUE(option.name.starts_with("-"));
    // A name ending in '=' has only the joined form.
    if (option.name.ends_with("=")) {
      EXPECT_TRUE(option.has(k_takes_concat_arg));
      EXPECT_FALSE(option.has(k_takes_arg));
    }
    // Only options with an argument can name paths, inputs or outputs.
    if (option.has(k_takes_path) || option.has(k_input) || option.has(k_output)) {
      EXPECT_TRUE(option.has(k_takes_arg) || option.has(k_takes_concat_arg));
    }
    EXPECT_FALSE(option.has(k_clang_only) && option.has(k_gcc_only));
  }
}

TEST(OptionTable, CoversTheImportantOptions) {
  for (const auto* name : {"-o",
                           "-c",
                           "-S",
                           "-E",
                           "-x",
                           "-MD",
                           "-MMD",
                           "-MF",
                           "-MT",
                           "-MQ",
                           "-MP",
                           "-M",
                           "-MM",
                           "-MG",
                           "-I",
                           "-iquote",
                           "-isystem",
                           "-idirafter",
                           "-iprefix",
                           "-iwithprefix",
                           "-iwithprefixbefore",
                           "-isysroot",
                           "-imacros",
                           "-include",
                           "--sysroot",
                           "-D",
                           "-U",
                           "-L",
                           "-l",
                           "-Xpreprocessor",
                           "-Xclang",
                           "-Xassembler",
                           "-Xlinker",
                           "-arch",
                           "-target",
                           "--target=",
                           "-gsplit-dwarf",
                           "--coverage",
                           "-fprofile-arcs",
                           "-ftest-coverage",
                           "-fprofile-use",
                           "-fprofile-generate",
                           "-fprofile-instr-use",
                           "-fauto-profile",
                           "-march=native",
                           "-mtune=native",
                           "-mcpu=native",
                           "-save-temps",
                           "-fmodules",
                           "-specs=",
                           "-B",
                           "-wrapper",
                           "-fplugin=",
                           "-frandom-seed=",
                           "-Wa,",
                           "-Wp,",
                           "-Wl,",
                           "-fdebug-prefix-map=",
                           "-ffile-prefix-map=",
                           "-fmacro-prefix-map=",
                           "-fcolor-diagnostics",
                           "-fdiagnostics-color=",
                           "-pipe",
                           "-MJ",
                           "-ftime-trace",
                           "-fdump-",
                           "--param",
                           "-aux-info",
                           "-Xarch_",
                           "-fsanitize-blacklist=",
                           "-fsanitize-ignorelist=",
                           "-fprofile-sample-use=",
                           "-include-pch"}) {
    EXPECT_NE(find_option(name), nullptr) << name;
  }
}

TEST(OptionTable, ExactMatch) {
  const auto m = match_option("-isystem");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->exact);
  EXPECT_EQ(m->info->name, "-isystem");
  EXPECT_TRUE(m->info->has(k_affects_cpp));
  EXPECT_TRUE(m->info->has(k_takes_arg));
}

TEST(OptionTable, JoinedMatchUsesLongestName) {
  auto m = match_option("-isystem/usr/local/include");
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->exact);
  EXPECT_EQ(m->info->name, "-isystem");
  EXPECT_EQ(m->joined_value, "/usr/local/include");

  m = match_option("-isystem-after/opt");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->info->name, "-isystem-after");
  EXPECT_EQ(m->joined_value, "/opt");

  m = match_option("-Iinclude");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->info->name, "-I");
  EXPECT_EQ(m->joined_value, "include");

  m = match_option("-fsanitize-ignorelist=ign.txt");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->info->name, "-fsanitize-ignorelist=");
  EXPECT_EQ(m->joined_value, "ign.txt");
  EXPECT_TRUE(m->info->has(k_input));
}

TEST(OptionTable, ExactEntryBeatsJoinedForm) {
  // "-march=native" is too hard, any other -march= is an ordinary flag.
  auto m = match_option("-march=native");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->info->has(k_too_hard));
  EXPECT_FALSE(match_option("-march=x86-64-v2"));
  // "-undef" is not "-u" with the argument "ndef".
  m = match_option("-undef");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->info->name, "-undef");
}

TEST(OptionTable, PrefixFamilies) {
  const auto m = match_option("-fdump-tree-all");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->info->name, "-fdump-");
  EXPECT_TRUE(m->info->has(k_too_hard));
}

TEST(OptionTable, OptionsWithoutJoinedFormDoNotMatchByPrefix) {
  // "-c" takes no argument, so "-cfoo" is not "-c".
  EXPECT_FALSE(match_option("-cfoo"));
  // "-MD" is not a prefix for "-MDfoo".
  EXPECT_FALSE(match_option("-MDfoo"));
  EXPECT_FALSE(match_option("-Wall"));
  EXPECT_FALSE(match_option(""));
  EXPECT_FALSE(match_option("-"));
}

} // namespace
} // namespace ccrex::toolchain
