#include "server/platform.h"

#include "server/sandbox_settings.h"
#include "util/strings.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>
#include <set>
#include <utility>

namespace ccrex::server {
namespace {

// CPU flag in /proc/cpuinfo -> REAPI ISA extension name (platform.md lexicon).
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> k_x86_extensions{{
    {"avx", "x86-avx"},
    {"avx2", "x86-avx2"},
    {"avx512f", "x86-avx-512"},
    {"sse4_1", "x86-sse4.1"},
    {"sse4_2", "x86-sse4.2"},
}};

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

// Return the flag set of one "flags : a b c" line.
std::set<std::string_view> flags_of_line(std::string_view line) {
  std::set<std::string_view> flags;
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return flags;
  }
  for (auto flag : util::split(line.substr(colon + 1), ' ', true)) {
    flags.insert(util::trim(flag));
  }
  return flags;
}

bool is_offered(const PlatformOffer& offer, const std::string& name, const std::string& value) {
  const auto it = offer.find(name);
  return it != offer.end()
         && std::find(it->second.begin(), it->second.end(), value) != it->second.end();
}

} // namespace

std::string isa_for_machine(std::string_view machine) {
  if (machine == "x86_64" || machine == "amd64") {
    return "x86-64";
  }
  if (machine == "i386" || machine == "i486" || machine == "i586" || machine == "i686") {
    return "x86-32";
  }
  if (machine == "aarch64" || machine == "arm64") {
    return "arm-a64";
  }
  if (machine == "aarch64_be") {
    return "arm-a64-be";
  }
  if (machine.rfind("armv", 0) == 0) {
    return "arm-a32";
  }
  if (machine == "ppc64le") {
    return "power-isa-le";
  }
  if (machine == "ppc64" || machine == "ppc") {
    return "power-isa-be";
  }
  if (machine == "riscv64") {
    return "rv64g";
  }
  if (machine == "riscv32") {
    return "rv32g";
  }
  if (machine == "sparc64") {
    return "sparc-v9";
  }
  if (machine == "loongarch64") {
    return "la64v100";
  }
  return std::string(machine);
}

std::vector<std::string> x86_extensions_from_cpuinfo(std::string_view cpuinfo) {
  bool seen_flags = false;
  std::set<std::string_view> common;
  for (auto line : util::split(cpuinfo, '\n')) {
    if (line.rfind("flags", 0) != 0) {
      continue;
    }
    auto flags = flags_of_line(line);
    if (!seen_flags) {
      common = std::move(flags);
      seen_flags = true;
      continue;
    }
    std::set<std::string_view> both;
    std::set_intersection(common.begin(),
                          common.end(),
                          flags.begin(),
                          flags.end(),
                          std::inserter(both, both.begin()));
    common = std::move(both);
  }
  std::vector<std::string> out;
  for (const auto& [flag, name] : k_x86_extensions) {
    if (common.contains(flag)) {
      out.emplace_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

PlatformOffer
platform_for(std::string_view sysname, std::string_view machine, std::string_view cpuinfo) {
  PlatformOffer offer;
  offer["OSFamily"].push_back(lowercase(sysname));
  const std::string isa = isa_for_machine(machine);
  auto& isas = offer["ISA"];
  isas.push_back(isa);
  if (isa == "x86-64" || isa == "x86-32") {
    for (auto& ext : x86_extensions_from_cpuinfo(cpuinfo)) {
      isas.push_back(std::move(ext));
    }
  }
  return offer;
}

std::string describe_offer(const PlatformOffer& offer) {
  std::vector<std::string> parts;
  for (const auto& [name, values] : offer) {
    for (const auto& value : values) {
      std::string part = name;
      part += '=';
      part += value;
      parts.push_back(std::move(part));
    }
  }
  return util::join(parts, ", ");
}

util::Status
check_platform(const reapi::v2::Platform& requested, const PlatformOffer& offer, bool lenient) {
  for (const auto& prop : requested.properties()) {
    if (!offer.contains(prop.name())) {
      if (lenient) {
        continue;
      }
      return util::invalid_argument("unknown platform property '" + prop.name()
                                    + "'; this server offers " + describe_offer(offer));
    }
    if (!is_offered(offer, prop.name(), prop.value())) {
      return util::Error(util::ErrorCode::failed_precondition,
                         "no worker offers " + prop.name() + "=" + prop.value()
                             + "; this server offers " + describe_offer(offer));
    }
  }
  return {};
}

std::optional<std::string> platform_value(const reapi::v2::Platform& platform,
                                          std::string_view name) {
  std::optional<std::string> out;
  for (const auto& prop : platform.properties()) {
    if (prop.name() == name) {
      out = prop.value();
    }
  }
  return out;
}

void add_sandbox_offer(PlatformOffer& offer, bool input_root, bool network) {
  if (!offer.contains(k_root_property)) {
    auto& roots = offer[k_root_property];
    roots.emplace_back("host");
    if (input_root) {
      roots.emplace_back("input");
    }
  }
  if (!offer.contains(k_network_property)) {
    auto& values = offer[k_network_property];
    values.emplace_back("off");
    if (network) {
      values.emplace_back("on");
    }
  }
}

} // namespace ccrex::server
