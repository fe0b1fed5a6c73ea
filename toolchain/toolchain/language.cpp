#include "toolchain/language.h"

#include <array>
#include <utility>

namespace ccrex::toolchain {
namespace {

struct LanguageName {
  Language language;
  std::string_view name;
};

constexpr auto k_names = std::to_array<LanguageName>({
    {Language::c, "c"},
    {Language::cxx, "c++"},
    {Language::objc, "objective-c"},
    {Language::objcxx, "objective-c++"},
    {Language::c_cpp_output, "cpp-output"},
    {Language::cxx_cpp_output, "c++-cpp-output"},
    {Language::objc_cpp_output, "objective-c-cpp-output"},
    {Language::objcxx_cpp_output, "objective-c++-cpp-output"},
    {Language::assembler, "assembler"},
    {Language::assembler_with_cpp, "assembler-with-cpp"},
    {Language::c_header, "c-header"},
    {Language::cxx_header, "c++-header"},
    {Language::objc_header, "objective-c-header"},
    {Language::objcxx_header, "objective-c++-header"},
    {Language::cuda, "cuda"},
});

struct Extension {
  std::string_view ext;
  Language language;
};

// Extensions are case-sensitive: ".C" is C++ and ".S" is assembler with cpp.
constexpr auto k_extensions = std::to_array<Extension>({
    {"c", Language::c},
    {"C", Language::cxx},
    {"cc", Language::cxx},
    {"cp", Language::cxx},
    {"cpp", Language::cxx},
    {"CPP", Language::cxx},
    {"cxx", Language::cxx},
    {"c++", Language::cxx},
    {"m", Language::objc},
    {"mm", Language::objcxx},
    {"M", Language::objcxx},
    {"i", Language::c_cpp_output},
    {"ii", Language::cxx_cpp_output},
    {"mi", Language::objc_cpp_output},
    {"mii", Language::objcxx_cpp_output},
    {"s", Language::assembler},
    {"S", Language::assembler_with_cpp},
    {"sx", Language::assembler_with_cpp},
    {"h", Language::c_header},
    {"H", Language::cxx_header},
    {"hh", Language::cxx_header},
    {"hp", Language::cxx_header},
    {"hpp", Language::cxx_header},
    {"hxx", Language::cxx_header},
    {"h++", Language::cxx_header},
    {"HPP", Language::cxx_header},
    {"tcc", Language::cxx_header},
    {"cu", Language::cuda},
});

// The C++ drivers treat C-ish extensions as their C++ counterparts.
Language promote_for_cxx_driver(Language language) {
  switch (language) {
  case Language::c:
    return Language::cxx;
  case Language::c_cpp_output:
    return Language::cxx_cpp_output;
  case Language::c_header:
    return Language::cxx_header;
  default:
    return language;
  }
}

} // namespace

std::string_view language_name(Language language) {
  for (const auto& entry : k_names) {
    if (entry.language == language) {
      return entry.name;
    }
  }
  return "unknown";
}

std::optional<Language> language_from_name(std::string_view name) {
  for (const auto& entry : k_names) {
    if (entry.name == name) {
      return entry.language;
    }
  }
  return std::nullopt;
}

std::optional<Language> language_from_extension(std::string_view path, bool cxx_driver) {
  const auto slash = path.rfind('/');
  const auto base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const auto dot = base.rfind('.');
  if (dot == std::string_view::npos || dot == 0) {
    return std::nullopt;
  }
  const auto ext = base.substr(dot + 1);
  for (const auto& entry : k_extensions) {
    if (entry.ext == ext) {
      return cxx_driver ? promote_for_cxx_driver(entry.language) : entry.language;
    }
  }
  return std::nullopt;
}

bool is_remotely_compilable(Language language) {
  switch (language) {
  case Language::c_header:
  case Language::cxx_header:
  case Language::objc_header:
  case Language::objcxx_header:
  case Language::cuda:
    return false;
  default:
    return true;
  }
}

bool is_preprocessed(Language language) {
  switch (language) {
  case Language::c_cpp_output:
  case Language::cxx_cpp_output:
  case Language::objc_cpp_output:
  case Language::objcxx_cpp_output:
  case Language::assembler:
    return false;
  default:
    return true;
  }
}

} // namespace ccrex::toolchain
