#include "server/config.h"

#include "server/platform.h"
#include "util/file.h"

#include <sys/utsname.h>

namespace ccrex::server {

std::map<std::string, std::vector<std::string>> host_platform() {
  struct utsname names {};
  if (::uname(&names) != 0) {
    return platform_for("linux", "x86_64", "");
  }
  const auto cpuinfo = util::read_file("/proc/cpuinfo");
  return platform_for(names.sysname, names.machine, cpuinfo ? *cpuinfo : std::string());
}

} // namespace ccrex::server
