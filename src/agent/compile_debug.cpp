#include "agent/compile_debug.h"

#include "util/file.h"

#include <functional>
#include <sstream>

namespace ccrex::agent {
namespace {

std::string digest_text(const reapi::v2::Digest& d) {
  return d.hash() + "/" + std::to_string(d.size_bytes());
}

// Every file and symlink under `dir` as "path digest" lines, in tree order.
void list_tree(const reapi::InputRoot& root,
               const reapi::v2::Digest& dir,
               const std::string& prefix,
               std::ostringstream& out) {
  const auto it = root.directories.find(digest_text(dir));
  if (it == root.directories.end()) {
    out << "  " << (prefix.empty() ? "." : prefix) << "/ (directory not in the tree)\n";
    return;
  }
  for (const auto& f : it->second.files()) {
    out << "  " << util::join_path(prefix, f.name()) << " " << digest_text(f.digest())
        << (f.is_executable() ? " executable" : "") << "\n";
  }
  for (const auto& l : it->second.symlinks()) {
    out << "  " << util::join_path(prefix, l.name()) << " -> " << l.target() << "\n";
  }
  for (const auto& d : it->second.directories()) {
    const std::string path = util::join_path(prefix, d.name());
    if (d.digest().size_bytes() == 0 || root.directories.count(digest_text(d.digest())) == 0) {
      out << "  " << path << "/\n"; // an empty directory
      continue;
    }
    list_tree(root, d.digest(), path, out);
  }
}

} // namespace

std::string describe_action(const BuiltAction& built, const toolchain::ToolchainId& toolchain) {
  std::ostringstream out;
  out << "action " << digest_text(built.action_digest) << "\n";
  out << "input root " << digest_text(built.action.input_root_digest()) << "\n";
  out << "command " << digest_text(built.action.command_digest()) << "\n";
  out << "salt " << built.action.salt() << "\n";
  out << "timeout " << built.action.timeout().seconds() << " s\n";
  out << "\n[compiler]\n" << toolchain.compiler_path << " (" << toolchain.resolved_path << ")\n";
  out << "identity " << toolchain.key << "\n" << toolchain.description();
  out << "\n[arguments]\n";
  for (const auto& a : built.command.arguments()) {
    out << a << "\n";
  }
  out << "\n[working directory]\n" << built.command.working_directory() << "\n";
  out << "\n[environment]\n";
  for (const auto& v : built.command.environment_variables()) {
    out << v.name() << "=" << v.value() << "\n";
  }
  out << "\n[platform]\n";
  for (const auto& p : built.action.platform().properties()) {
    out << p.name() << "=" << p.value() << "\n";
  }
  for (const auto& p : built.command.platform().properties()) {
    out << p.name() << "=" << p.value() << " (command)\n";
  }
  out << "\n[inputs]\n";
  list_tree(built.input_root, built.action.input_root_digest(), "", out);
  out << "\n[outputs]\n";
  for (const auto& o : built.outputs) {
    out << o.remote_path << " -> " << o.local_path << (o.required ? "" : " (if written)") << "\n";
  }
  if (!built.logical_cwd.empty()) {
    out << "\n[logical working directory]\n" << built.logical_cwd << "\n";
  }
  for (const auto& f : built.foreign_inputs) {
    out << "foreign input (must exist on the worker): " << f << "\n";
  }
  return out.str();
}

util::Status write_debug_file(const std::string& object_path,
                              const BuiltAction& built,
                              const toolchain::ToolchainId& toolchain) {
  return util::write_file_atomic(
      object_path + ".ccrex-debug", describe_action(built, toolchain), 0644);
}

} // namespace ccrex::agent
