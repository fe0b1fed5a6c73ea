#pragma once

// Source languages as gcc's `-x` names them, and the mapping from file extensions.
// Thread safety: pure functions.

#include <optional>
#include <string_view>

namespace ccrex::toolchain {

enum class Language {
  c,
  cxx,
  objc,
  objcxx,
  c_cpp_output,      // .i: preprocessed C
  cxx_cpp_output,    // .ii: preprocessed C++
  objc_cpp_output,   // .mi
  objcxx_cpp_output, // .mii
  assembler,         // .s: no preprocessing
  assembler_with_cpp,
  c_header,
  cxx_header,
  objc_header,
  objcxx_header,
  cuda,
};

// Return the `-x` name of `language` ("c++", "assembler-with-cpp").
std::string_view language_name(Language language);

// Parse a `-x` argument. Return nullopt for "none" and for names we do not know.
std::optional<Language> language_from_name(std::string_view name);

// Return the language gcc/clang infer for `path` from its extension, or nullopt when the
// file would be handed to the linker. `cxx_driver` is true for g++/clang++/c++, which
// compile .c, .h and .i files as C++.
std::optional<Language> language_from_extension(std::string_view path, bool cxx_driver);

// Return whether ccrex can compile `language` remotely (headers would produce
// precompiled headers, CUDA needs a device toolchain: both run locally).
bool is_remotely_compilable(Language language);

// Return whether sources in `language` go through the preprocessor (so their #include
// dependencies must be found). Preprocessed inputs and plain assembler do not.
bool is_preprocessed(Language language);

} // namespace ccrex::toolchain
