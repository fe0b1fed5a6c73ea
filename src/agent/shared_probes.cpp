#include "agent/shared_probes.h"

#include <optional>
#include <string_view>

namespace ccrex::agent {
namespace {

// The scanner's language for an identity probe's argv, when it is `<compiler> -x <c or c++>
// -E -v /dev/null` (the only probes the scanner makes without extra arguments).
std::optional<depscan::Language> include_probe_language(const std::vector<std::string>& argv) {
  if (argv.size() != 6 || argv[1] != "-x" || argv[3] != "-E" || argv[4] != "-v"
      || argv[5] != "/dev/null") {
    return std::nullopt;
  }
  if (argv[2] == "c") {
    return depscan::Language::c;
  }
  if (argv[2] == "c++") {
    return depscan::Language::cxx;
  }
  return std::nullopt;
}

} // namespace

toolchain::ProbeRunner sharing_include_probes(toolchain::ProbeRunner runner,
                                              depscan::CompilerProber& prober) {
  return [runner = std::move(runner),
          &prober](const std::vector<std::string>& argv) -> util::Result<toolchain::ProbeOutput> {
    auto output = runner(argv);
    if (output && output->exit_code == 0) {
      if (const auto language = include_probe_language(argv)) {
        (void)prober.remember(argv.front(), *language, {}, output->stderr_data);
      }
    }
    return output;
  };
}

} // namespace ccrex::agent
