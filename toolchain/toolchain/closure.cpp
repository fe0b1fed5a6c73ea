#include "toolchain/closure.h"

#include "util/file.h"
#include "util/strings.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

namespace ccrex::toolchain {
namespace {

// Symbolic links followed in a row before the closure gives up (the kernel's limit).
constexpr int k_max_links = 40;
// Directory levels walked below a built-in include directory.
constexpr int k_max_depth = 32;

#if defined(__x86_64__)
constexpr unsigned k_machine = EM_X86_64;
#elif defined(__aarch64__)
constexpr unsigned k_machine = EM_AARCH64;
#else
constexpr unsigned k_machine = EM_NONE; // any: the loader decides
#endif

class Builder {
public:
  explicit Builder(const ProbeRunner& runner) : m_runner(runner) {}

  // Add the file at `path` (absolute), its chain of symbolic links kept; return the path of
  // the regular file it ends at.
  util::Result<std::string> add_file(const std::string& path) {
    std::string at = util::normalize_path(path);
    for (int links = 0; links < k_max_links; ++links) {
      struct stat st {};
      if (::lstat(at.c_str(), &st) != 0) {
        return util::errno_error("stat " + at, errno);
      }
      if (S_ISREG(st.st_mode)) {
        add({at, ClosureEntry::Kind::file, at, "", (st.st_mode & S_IXUSR) != 0});
        return at;
      }
      if (!S_ISLNK(st.st_mode)) {
        return util::unsupported(at + " is neither a regular file nor a symbolic link");
      }
      CCREX_ASSIGN_OR_RETURN(const std::string next, link_target(at));
      add({at,
           ClosureEntry::Kind::symlink,
           "",
           util::relative_path(next, util::dirname(at)),
           false});
      at = next;
    }
    return util::unsupported("too many symbolic links at " + path);
  }

  util::Status add_path(const std::string& path) {
    CCREX_TRY(add_file(path));
    return {};
  }

  // Add a program and everything the loader loads with it.
  util::Status add_program(const std::string& path) {
    CCREX_ASSIGN_OR_RETURN(const std::string real, add_file(path));
    if (!m_programs.insert(real).second) {
      return {};
    }
    CCREX_ASSIGN_OR_RETURN(const std::string interp, elf_interpreter(real));
    if (interp.empty()) {
      return {};
    }
    CCREX_TRY(add_path(interp));
    CCREX_ASSIGN_OR_RETURN(const auto out, m_runner({interp, "--list", real}));
    if (out.exit_code != 0) {
      return util::unsupported("the loader cannot list the libraries of " + real + ": "
                               + std::string(util::trim(out.stderr_data)));
    }
    for (const auto line : util::split(out.stdout_data, '\n', true)) {
      CCREX_TRY(add_library_line(util::trim(line), real));
    }
    return {};
  }

  // Add every file below the directory `dir` (absolute).
  util::Status add_tree(const std::string& dir, int depth) {
    if (depth > k_max_depth) {
      return util::unsupported("directories nested too deeply below " + dir);
    }
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
      return util::errno_error("stat " + dir, errno);
    }
    if (S_ISLNK(st.st_mode)) {
      if (::stat(dir.c_str(), &st) != 0) {
        return {}; // a dangling link: nothing a compile could read
      }
      CCREX_ASSIGN_OR_RETURN(const std::string next, link_target(dir));
      add({dir,
           ClosureEntry::Kind::symlink,
           "",
           util::relative_path(next, util::dirname(dir)),
           false});
      return add_tree(next, depth + 1);
    }
    if (!S_ISDIR(st.st_mode)) {
      return add_path(dir);
    }
    if (!m_walked.insert(dir).second) {
      return {};
    }
    add({dir, ClosureEntry::Kind::directory, "", "", false});
    std::error_code ec;
    std::set<std::string> names; // sorted: the same walk every time
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator();
         it.increment(ec)) {
      names.insert(it->path().filename().string());
    }
    if (ec) {
      return util::Error(util::ErrorCode::io_error, "list " + dir + ": " + ec.message());
    }
    for (const auto& name : names) {
      CCREX_TRY(add_tree(util::join_path(dir, name), depth + 1));
    }
    return {};
  }

  Closure finish() && {
    Closure out;
    out.entries.reserve(m_entries.size());
    for (auto& [path, entry] : m_entries) {
      out.entries.push_back(std::move(entry));
    }
    return out;
  }

private:
  static util::Result<std::string> link_target(const std::string& link) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(link, ec);
    if (ec) {
      return util::Error(util::ErrorCode::io_error, "readlink " + link + ": " + ec.message());
    }
    const std::string t = target.string();
    return util::normalize_path(t.starts_with('/') ? t : util::join_path(util::dirname(link), t));
  }

  // One line of the loader's `--list`: "libz.so.1 => /lib/.../libz.so.1 (0x...)", the
  // interpreter as "/lib64/ld-linux-x86-64.so.2 (0x...)", or the vDSO without a path.
  util::Status add_library_line(std::string_view line, const std::string& program) {
    const size_t arrow = line.find(" => ");
    std::string_view path = arrow == std::string_view::npos ? line : line.substr(arrow + 4);
    if (path.starts_with("not found")) {
      return util::unsupported("library " + std::string(line.substr(0, arrow)) + " of " + program
                               + " not found");
    }
    const size_t paren = path.find(" (0x");
    path = util::trim(path.substr(0, paren));
    if (!path.starts_with('/')) {
      return {}; // the vDSO, or "statically linked"
    }
    return add_path(std::string(path));
  }

  void add(const ClosureEntry& entry) {
    // The first kind seen at a path stays: a walk meeting a path twice sees the same thing.
    m_entries.try_emplace(entry.path, entry);
  }

  const ProbeRunner& m_runner;
  std::map<std::string, ClosureEntry> m_entries;
  std::set<std::string> m_programs;
  std::set<std::string> m_walked;
};

// Ask the driver for the program it runs under `name`: its absolute path, or "" when the
// driver looks it up in PATH at run time (then found in k_closure_path) or does not have it.
util::Result<std::string>
program_path(const ToolchainId& id, const ProbeRunner& runner, const std::string& name) {
  CCREX_ASSIGN_OR_RETURN(const auto out, runner({id.compiler_path, "-print-prog-name=" + name}));
  const std::string answer(util::trim(out.stdout_data));
  if (out.exit_code == 0 && answer.starts_with('/') && ::access(answer.c_str(), X_OK) == 0) {
    return util::normalize_path(answer);
  }
  for (const auto dir : util::split(k_closure_path, ':', true)) {
    const std::string candidate = util::join_path(dir, name);
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::string();
}

} // namespace

bool is_system_include_dir(std::string_view dir) {
  const std::string d = util::normalize_path(dir);
  if (d == "/usr/include" || d == "/usr/local/include") {
    return true;
  }
  constexpr std::string_view k_usr_include = "/usr/include/";
  return d.starts_with(k_usr_include) && d.find('/', k_usr_include.size()) == std::string::npos;
}

util::Result<std::string> elf_interpreter(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return util::errno_error("open " + path, errno);
  }
  const auto read_at = [fd](void* buf, size_t size, off_t at) {
    return ::pread(fd, buf, size, at) == static_cast<ssize_t>(size);
  };
  Elf64_Ehdr eh{};
  std::string interp;
  util::Status status;
  if (!read_at(&eh, sizeof eh, 0)
      || std::string_view(reinterpret_cast<const char*>(eh.e_ident), 4)
             != std::string_view(ELFMAG, SELFMAG)) {
    status = util::unsupported(path + " is not an ELF file");
  } else if (eh.e_ident[EI_CLASS] != ELFCLASS64
             || (k_machine != EM_NONE && eh.e_machine != k_machine)
             || eh.e_phentsize != sizeof(Elf64_Phdr)) {
    status = util::unsupported(path + " is an ELF file for another machine");
  } else {
    for (unsigned i = 0; i < eh.e_phnum && status && interp.empty(); ++i) {
      Elf64_Phdr ph{};
      if (!read_at(&ph, sizeof ph, static_cast<off_t>(eh.e_phoff + i * sizeof ph))) {
        status = util::unsupported(path + ": truncated program header");
      } else if (ph.p_type == PT_INTERP) {
        if (ph.p_filesz == 0 || ph.p_filesz > 4096) {
          status = util::unsupported(path + ": bad PT_INTERP");
          break;
        }
        std::string text(ph.p_filesz, '\0');
        if (!read_at(text.data(), text.size(), static_cast<off_t>(ph.p_offset))) {
          status = util::unsupported(path + ": truncated PT_INTERP");
          break;
        }
        interp = text.substr(0, text.find('\0'));
      }
    }
    if (status && !interp.empty() && !interp.starts_with('/')) {
      status = util::unsupported(path + ": relative ELF interpreter " + interp);
    }
  }
  ::close(fd);
  if (!status) {
    return status.error();
  }
  return interp;
}

util::Result<Closure> compute_closure(const ToolchainId& id, const ProbeRunner& runner) {
  Builder b(runner);
  CCREX_TRY(b.add_program(id.compiler_path));
  std::vector<std::string> programs{"as"};
  if (id.family != CompilerFamily::clang) {
    programs.insert(programs.end(), {"cc1", "cc1plus"});
  }
  for (const auto& name : programs) {
    CCREX_ASSIGN_OR_RETURN(const std::string path, program_path(id, runner, name));
    if (!path.empty()) {
      CCREX_TRY(b.add_program(path));
    }
  }
  // gcc reads its specs file when it has one; clang takes the directory holding gcc's
  // crtbegin.o for the GCC installation whose C++ headers it uses.
  const char* marker = id.family == CompilerFamily::clang ? "crtbegin.o" : "specs";
  CCREX_ASSIGN_OR_RETURN(const auto found,
                         runner({id.compiler_path, std::string("-print-file-name=") + marker}));
  const std::string found_path(util::trim(found.stdout_data));
  if (found.exit_code == 0 && found_path.starts_with('/') && util::path_exists(found_path)) {
    CCREX_TRY(b.add_path(util::normalize_path(found_path)));
  }
  std::set<std::string> dirs;
  for (const auto& d : id.builtin_include_dirs) {
    if (d.starts_with('/') && !is_system_include_dir(d)) {
      dirs.insert(util::normalize_path(d));
    }
  }
  for (const auto& d : dirs) {
    CCREX_TRY(b.add_tree(d, 0));
  }
  return std::move(b).finish();
}

} // namespace ccrex::toolchain
