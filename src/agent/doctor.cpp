#include "agent/doctor.h"

#include "reapi/capabilities.h"
#include "util/file.h"
#include "util/subprocess.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace ccrex::agent {
namespace {

class Report {
public:
  void ok(const std::string& line) { m_text += "ok:      " + line + "\n"; }
  void problem(const std::string& line) {
    m_text += "problem: " + line + "\n";
    m_failed = true;
  }
  DoctorReport done() const { return {m_text, m_failed ? 1 : 0}; }

private:
  std::string m_text;
  bool m_failed = false;
};

void check_cache_dir(const Config& c, Report& r) {
  const std::string probe = util::join_path(c.cache_dir, ".doctor-" + std::to_string(::getpid()));
  if (auto st = util::make_dirs(c.cache_dir); !st) {
    r.problem("cache directory " + c.cache_dir + ": " + st.error().message());
    return;
  }
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    r.problem(
        util::errno_error("cache directory " + c.cache_dir + " is not writable", errno).message());
    return;
  }
  ::close(fd);
  (void)::unlink(probe.c_str());
  r.ok("cache directory " + c.cache_dir + " (limit " + std::to_string(c.max_size >> 20) + " MiB)");
}

void check_engine(const DoctorInputs& in, Report& r) {
  const Config& c = *in.config;
  const std::string name = c.remote.empty() ? "embedded engine" : "engine " + c.remote;
  if (!in.executor) {
    r.problem(name + ": " + in.executor.error().message());
    return;
  }
  auto info = (*in.executor)->capabilities();
  if (!info) {
    r.problem(name + " cannot be reached: " + info.error().message());
    return;
  }
  if (info->incompatible != reapi::Incompatibility::none) {
    r.problem(name + " cannot be used: " + info->incompatible_detail);
    return;
  }
  std::string offers = "REAPI " + reapi::to_text(info->low_api) + " to "
                       + reapi::to_text(info->high_api) + " (speaking "
                       + reapi::to_text(info->chosen_api) + "), ";
  offers += info->exec_enabled ? "remote execution" : "no remote execution";
  offers += info->ac_update_enabled ? ", accepts uploaded results" : "";
  r.ok(name + ": " + offers);
  if (!c.remote.empty() && !info->exec_enabled && !info->ac_update_enabled) {
    r.problem(name
              + " neither executes nor accepts results: every miss compiles locally and "
                "is not shared");
  }
  std::string platform;
  for (const auto& [k, v] : c.platform) {
    platform += (platform.empty() ? "" : ", ") + k + "=" + v;
  }
  r.ok("platform asked of workers: " + (platform.empty() ? std::string("(none)") : platform));
}

void check_compiler(const DoctorInputs& in, Report& r) {
  std::string path = in.compiler;
  if (path.find('/') == std::string::npos) {
    auto found = util::find_in_path(path, env_value(in.env, "PATH"));
    if (!found) {
      r.problem("compiler " + in.compiler + " is not in PATH");
      return;
    }
    path = *found;
  }
  // The identity of what the name compiles by default: C, or C++ for g++ and the like.
  const auto language = toolchain::classify_compiler_name(path).info.cxx_driver
                            ? toolchain::Language::cxx
                            : toolchain::Language::c;
  auto id = in.toolchains->get(path, language);
  if (!id) {
    r.problem("compiler " + path + ": " + id.error().message());
    return;
  }
  if ((*id)->family == toolchain::CompilerFamily::unknown) {
    r.problem("compiler " + path + " is neither gcc nor clang: its compiles run locally");
    return;
  }
  r.ok("compiler " + path + ": " + std::string(toolchain::family_name((*id)->family)) + " "
       + (*id)->version + ", " + (*id)->target + ", identity " + (*id)->key.substr(0, 12));
}

} // namespace

DoctorReport run_doctor(const DoctorInputs& in) {
  Report r;
  r.ok("agent pid " + std::to_string(::getpid()) + " answers");
  const Config& c = *in.config;
  if (c.disable) {
    r.problem("ccrex is disabled (disable=true, from "
              + (c.origin.count("disable") != 0 ? c.origin.at("disable") : std::string("default"))
              + "): every compile runs the compiler alone");
  }
  check_cache_dir(c, r);
  check_engine(in, r);
  if (!in.compiler.empty() && in.toolchains != nullptr) {
    check_compiler(in, r);
  }
  return r.done();
}

} // namespace ccrex::agent
