#include "toolchain/language.h"

#include <gtest/gtest.h>

namespace ccrex::toolchain {
namespace {

TEST(Language, FromExtension) {
  EXPECT_EQ(language_from_extension("a/b.c", false), Language::c);
  EXPECT_EQ(language_from_extension("b.cc", false), Language::cxx);
  EXPECT_EQ(language_from_extension("b.C", false), Language::cxx);
  EXPECT_EQ(language_from_extension("b.cpp", false), Language::cxx);
  EXPECT_EQ(language_from_extension("b.cxx", false), Language::cxx);
  EXPECT_EQ(language_from_extension("b.c++", false), Language::cxx);
  EXPECT_EQ(language_from_extension("b.m", false), Language::objc);
  EXPECT_EQ(language_from_extension("b.mm", false), Language::objcxx);
  EXPECT_EQ(language_from_extension("b.i", false), Language::c_cpp_output);
  EXPECT_EQ(language_from_extension("b.ii", false), Language::cxx_cpp_output);
  EXPECT_EQ(language_from_extension("b.s", false), Language::assembler);
  EXPECT_EQ(language_from_extension("b.S", false), Language::assembler_with_cpp);
  EXPECT_EQ(language_from_extension("b.h", false), Language::c_header);
  EXPECT_EQ(language_from_extension("b.hpp", false), Language::cxx_header);
  EXPECT_EQ(language_from_extension("b.o", false), std::nullopt);
  EXPECT_EQ(language_from_extension("noext", false), std::nullopt);
  EXPECT_EQ(language_from_extension(".c", false), std::nullopt);
  EXPECT_EQ(language_from_extension("dir.c/file", false), std::nullopt);
}

TEST(Language, CxxDriverPromotesC) {
  EXPECT_EQ(language_from_extension("x.c", true), Language::cxx);
  EXPECT_EQ(language_from_extension("x.i", true), Language::cxx_cpp_output);
  EXPECT_EQ(language_from_extension("x.h", true), Language::cxx_header);
  EXPECT_EQ(language_from_extension("x.S", true), Language::assembler_with_cpp);
}

TEST(Language, NamesRoundTrip) {
  for (const auto* name : {"c",
                           "c++",
                           "objective-c",
                           "objective-c++",
                           "cpp-output",
                           "c++-cpp-output",
                           "assembler",
                           "assembler-with-cpp",
                           "c-header",
                           "c++-header",
                           "cuda"}) {
    const auto language = language_from_name(name);
    ASSERT_TRUE(language) << name;
    EXPECT_EQ(language_name(*language), name);
  }
  EXPECT_FALSE(language_from_name("none"));
  EXPECT_FALSE(language_from_name("fortran"));
}

TEST(Language, Properties) {
  EXPECT_TRUE(is_remotely_compilable(Language::cxx));
  EXPECT_FALSE(is_remotely_compilable(Language::cxx_header));
  EXPECT_FALSE(is_remotely_compilable(Language::cuda));
  EXPECT_TRUE(is_preprocessed(Language::assembler_with_cpp));
  EXPECT_FALSE(is_preprocessed(Language::assembler));
  EXPECT_FALSE(is_preprocessed(Language::cxx_cpp_output));
}

} // namespace
} // namespace ccrex::toolchain
