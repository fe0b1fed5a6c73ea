#include "server/config.h"

#include "server/platform.h"
#include "util/file.h"
#include "util/strings.h"

#include <sys/utsname.h>

namespace ccrex::server {
namespace {

// `text` for an error message on one line: control bytes are shown as \xNN.
std::string printable(std::string_view text) {
  static constexpr std::string_view k_hex = "0123456789abcdef";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += k_hex[byte >> 4];
      out += k_hex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

// Parse "2.N" into N; anything else (other majors, signs, spaces, extra parts) fails.
util::Result<int> parse_minor(std::string_view text, std::string_view whole) {
  const auto invalid = [&] {
    return util::invalid_argument("--api-versions expects 2.N, 2.N-2.M or 2.N+ with N and M "
                                  "between 0 and "
                                  + std::to_string(ApiVersions::k_newest_minor) + ", got '"
                                  + printable(whole) + "'");
  };
  if (text.size() < 3 || text.substr(0, 2) != "2.") {
    return invalid();
  }
  const std::string_view digits = text.substr(2);
  if (digits.size() > 3 || (digits.size() > 1 && digits.front() == '0')
      || digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return invalid();
  }
  const int minor = std::stoi(std::string(digits));
  if (minor > ApiVersions::k_newest_minor) {
    return util::invalid_argument("--api-versions: this server speaks REAPI 2.0 to 2."
                                  + std::to_string(ApiVersions::k_newest_minor) + ", not "
                                  + printable(text));
  }
  return minor;
}

} // namespace

std::string ApiVersions::to_string() const {
  const std::string low = "2." + std::to_string(low_minor);
  if (low_minor == high_minor) {
    return low;
  }
  return low + "-2." + std::to_string(high_minor);
}

util::Result<ApiVersions> parse_api_versions(std::string_view text) {
  ApiVersions out;
  if (!text.empty() && text.back() == '+') {
    CCREX_ASSIGN_OR_RETURN(out.low_minor, parse_minor(text.substr(0, text.size() - 1), text));
    out.high_minor = ApiVersions::k_newest_minor;
    return out;
  }
  const size_t dash = text.find('-');
  CCREX_ASSIGN_OR_RETURN(out.low_minor, parse_minor(text.substr(0, dash), text));
  out.high_minor = out.low_minor;
  if (dash != std::string_view::npos) {
    CCREX_ASSIGN_OR_RETURN(out.high_minor, parse_minor(text.substr(dash + 1), text));
  }
  if (out.low_minor > out.high_minor) {
    return util::invalid_argument("--api-versions: the low end of '" + printable(text)
                                  + "' is above its high end");
  }
  return out;
}

std::map<std::string, std::vector<std::string>> host_platform() {
  struct utsname names {};
  if (::uname(&names) != 0) {
    return platform_for("linux", "x86_64", "");
  }
  const auto cpuinfo = util::read_file("/proc/cpuinfo");
  return platform_for(names.sysname, names.machine, cpuinfo ? *cpuinfo : std::string());
}

} // namespace ccrex::server
