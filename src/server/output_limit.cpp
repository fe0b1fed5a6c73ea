#include "server/output_limit.h"

#include "util/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ccrex::server {
namespace {

// Add the regular files at or under the entry `name` of the directory `dir_fd` to `sum`,
// stopping once it is over `cap`. Never follows a symlink.
void add_entry(int dir_fd, const char* name, int64_t cap, int64_t& sum, int depth) {
  struct stat st {};
  if (sum > cap || ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return;
  }
  if (S_ISREG(st.st_mode)) {
    sum += st.st_size;
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    return;
  }
  if (depth > 512) {
    sum = cap + 1; // deeper than any result a client could use: over
    return;
  }
  const int fd = ::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return;
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return;
  }
  while (const dirent* e = ::readdir(dir)) {
    const std::string_view n(e->d_name);
    if (n != "." && n != "..") {
      add_entry(::dirfd(dir), e->d_name, cap, sum, depth + 1);
    }
    if (sum > cap) {
      break;
    }
  }
  ::closedir(dir);
}

} // namespace

int64_t measure_outputs(const std::string& cwd,
                        const std::vector<std::string>& names,
                        const std::vector<std::string>& extra,
                        int64_t cap) {
  int64_t sum = 0;
  for (const std::string& path : extra) {
    add_entry(AT_FDCWD, path.c_str(), cap, sum, 0);
  }
  for (const std::string& name : names) {
    const std::string path = name.empty() || name == "." ? cwd : util::join_path(cwd, name);
    add_entry(AT_FDCWD, path.c_str(), cap, sum, 0);
  }
  return sum;
}

} // namespace ccrex::server
