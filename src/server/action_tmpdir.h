#pragma once

// A private temporary directory for an action that runs without a sandbox (a sandboxed
// action already has a /tmp of its own). Compilers write their temporaries (gcc's
// intermediate assembly, clang's module and crash files) where TMPDIR points; without it
// they go to the shared /tmp, whatever directory the user chose for temporary files. The
// runner makes one directory per action below the server's temporary root, points TMPDIR at
// it and removes it, with anything the action left there, once every process of the action
// is gone. TMPDIR does not change what a compile produces, so it is not part of the action:
// a Command that sets TMPDIR itself keeps its value and gets no directory.
//
//   ActionTmpDir tmp = ActionTmpDir::create(options.tmp_root, env);  // env gains TMPDIR=...
//   ... run the command with env ...
//   // ~ActionTmpDir removes the directory
//
// Thread safety: each object is used by one thread; create() may run concurrently.

#include <string>
#include <vector>

namespace ccrex::server {

class ActionTmpDir {
public:
  ActionTmpDir() = default;
  ActionTmpDir(ActionTmpDir&& other) noexcept;
  ActionTmpDir& operator=(ActionTmpDir&& other) noexcept;
  ActionTmpDir(const ActionTmpDir&) = delete;
  ActionTmpDir& operator=(const ActionTmpDir&) = delete;
  ~ActionTmpDir();

  // Unless `env` ("NAME=value" entries) sets TMPDIR already, create a mode 0700 directory
  // `<root>/ccrex-action-XXXXXX` and append TMPDIR=<it> to `env`. When `root` is empty or the
  // directory cannot be made, `env` is left alone and the action uses /tmp as it would
  // anyway (logged once per server at warning level): a temporary directory is never a reason
  // to fail a build.
  static ActionTmpDir create(const std::string& root, std::vector<std::string>& env);

  // The directory, or "" when none was made.
  const std::string& path() const { return m_path; }

private:
  std::string m_path;
};

// The temporary root a server uses when it is given none: $TMPDIR when it names an absolute
// path, else /tmp.
std::string default_tmp_root();

} // namespace ccrex::server
