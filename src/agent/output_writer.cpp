#include "agent/output_writer.h"

#include "agent/dep_file.h"
#include "reapi/digest.h"
#include "util/file.h"
#include "util/scope_exit.h"
#include "util/strings.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>

namespace ccrex::agent {
namespace {

namespace v2 = reapi::v2;

util::Result<std::string> fetch_verified(const v2::Digest& d, const BlobFetcher& fetch) {
  if (d.size_bytes() == 0 && (d.hash().empty() || reapi::is_empty_blob(d))) {
    return std::string(); // the empty blob is never stored or fetched
  }
  CCREX_TRY(reapi::validate(d));
  CCREX_ASSIGN_OR_RETURN(std::string data, fetch(d));
  if (reapi::digest_of(data).hash() != d.hash()
      || static_cast<int64_t>(data.size()) != d.size_bytes()) {
    return util::Error(util::ErrorCode::data_loss,
                       "server returned wrong bytes for blob " + reapi::to_string(d));
  }
  return data;
}

bool names(const v2::Digest& d, std::string_view data) {
  const auto actual = reapi::digest_of(data);
  return actual.hash() == d.hash() && actual.size_bytes() == d.size_bytes();
}

// One of the result's streams: inline bytes (checked against the digest when one is set
// too) or fetched by digest.
util::Result<std::string> stream(const std::string& raw,
                                 const v2::Digest& digest,
                                 std::string_view name,
                                 const BlobFetcher& fetch) {
  if (raw.empty()) {
    return fetch_verified(digest, fetch);
  }
  if (!digest.hash().empty() && !names(digest, raw)) {
    return util::Error(util::ErrorCode::data_loss,
                       "inlined " + std::string(name) + " does not match its digest");
  }
  return raw;
}

mode_t file_mode(bool executable, mode_t umask) {
  return (executable ? 0777 : 0666) & ~umask;
}

} // namespace

void write_fd(int fd, const std::string& data) {
  size_t off = 0;
  while (fd >= 0 && off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    off += static_cast<size_t>(n);
  }
}

std::string PathRewrite::apply(std::string text) const {
  for (const auto& [from, to] : pairs) {
    if (from != to) {
      text = util::replace_all(text, from, to);
    }
  }
  return text;
}

util::Result<PathRewrite> engine_rewrite(const v2::ActionResult& result,
                                         const std::vector<ExpectedOutput>& expected,
                                         const BlobFetcher& fetch) {
  const auto marker = std::find_if(expected.begin(), expected.end(), [](const auto& e) {
    return e.kind == OutputKind::engine_root;
  });
  if (marker == expected.end()) {
    return PathRewrite{};
  }
  const auto file = std::find_if(result.output_files().begin(),
                                 result.output_files().end(),
                                 [&](const auto& f) { return f.path() == marker->remote_path; });
  if (file == result.output_files().end()) {
    return util::Error(util::ErrorCode::data_loss,
                       "incomplete result: the engine did not report where it ran the compile");
  }
  std::string text = file->contents();
  if (text.empty() || !names(file->digest(), text)) {
    CCREX_ASSIGN_OR_RETURN(text, fetch_verified(file->digest(), fetch));
  }
  PathRewrite out;
  for (const auto line : util::split(text, '\n', true)) {
    const std::string root(line);
    if (root.size() < 2 || root.front() != '/' || root.back() == '/'
        || util::normalize_path(root) != root || std::any_of(root.begin(), root.end(), [](char c) {
             return static_cast<unsigned char>(c) < 0x20;
           })) {
      return util::Error(util::ErrorCode::data_loss,
                         "the engine reported an unusable root directory '" + root + "'");
    }
    out.pairs.emplace_back(root, marker->local_path);
  }
  if (out.pairs.empty()) {
    return util::Error(util::ErrorCode::data_loss, "the engine reported no root directory");
  }
  // Longer roots first, so that one root inside another is replaced whole.
  std::sort(out.pairs.begin(), out.pairs.end(), [](const auto& a, const auto& b) {
    return a.first.size() > b.first.size();
  });
  return out;
}

util::Result<std::pair<std::string, std::string>> fetch_streams(const v2::ActionResult& result,
                                                                const BlobFetcher& fetch) {
  std::pair<std::string, std::string> out;
  CCREX_ASSIGN_OR_RETURN(out.first,
                         stream(result.stdout_raw(), result.stdout_digest(), "stdout", fetch));
  CCREX_ASSIGN_OR_RETURN(out.second,
                         stream(result.stderr_raw(), result.stderr_digest(), "stderr", fetch));
  return out;
}

util::Status write_outputs(const v2::ActionResult& result,
                           const std::vector<ExpectedOutput>& expected,
                           const BlobFetcher& fetch,
                           mode_t umask,
                           const PathRewrite& rewrite) {
  std::map<std::string, const ExpectedOutput*> wanted; // by remote path
  for (const auto& e : expected) {
    wanted[e.remote_path] = &e;
  }
  if (result.output_directories_size() > 0 || result.output_file_symlinks_size() > 0
      || result.output_symlinks_size() > 0 || result.output_directory_symlinks_size() > 0) {
    return util::Error(util::ErrorCode::data_loss, "result has outputs of unexpected kinds");
  }
  if (result.exit_code() == 0) {
    for (const auto& e : expected) {
      const bool present = std::any_of(result.output_files().begin(),
                                       result.output_files().end(),
                                       [&](const auto& f) { return f.path() == e.remote_path; });
      if (e.required && !present) {
        return util::Error(util::ErrorCode::data_loss,
                           "incomplete result: exit code 0 but no output '" + e.remote_path + "'");
      }
    }
  }
  struct Staged {
    std::string temp;
    std::string dest;
  };
  std::vector<Staged> staged;
  util::ScopeExit cleanup([&] {
    for (const auto& s : staged) {
      ::unlink(s.temp.c_str());
    }
  });
  std::set<std::string> produced;
  for (const auto& f : result.output_files()) {
    const auto it = wanted.find(f.path());
    if (it == wanted.end() || !produced.insert(f.path()).second) {
      return util::Error(util::ErrorCode::data_loss,
                         "result names an output that was not asked for: '" + f.path() + "'");
    }
    std::string data;
    if (!f.contents().empty()) {
      data = f.contents(); // inlined: must be exactly the bytes the digest names
      if (!names(f.digest(), data)) {
        return util::Error(util::ErrorCode::data_loss,
                           "inlined output '" + f.path() + "' does not match its digest");
      }
    } else {
      CCREX_ASSIGN_OR_RETURN(data, fetch_verified(f.digest(), fetch));
    }
    const ExpectedOutput& e = *it->second;
    if (e.kind == OutputKind::engine_root) {
      continue; // read by engine_rewrite()
    }
    if (e.kind == OutputKind::gcc_dependency_file || e.kind == OutputKind::clang_dependency_file) {
      const auto style =
          e.kind == OutputKind::gcc_dependency_file ? DepFileStyle::gcc : DepFileStyle::clang;
      auto local = rewrite_dep_file(data, style, rewrite.pairs);
      if (!local) {
        return util::Error(util::ErrorCode::data_loss, local.error().message());
      }
      data = std::move(local).value();
    }
    mode_t mode = file_mode(f.is_executable(), umask);
    struct stat existing {};
    if (e.in_place && ::stat(e.local_path.c_str(), &existing) == 0 && S_ISREG(existing.st_mode)) {
      // The compiler would open the existing file for writing: it keeps its mode, and a
      // file the compiler may not write fails the compile (here: a local compile does).
      if (::access(e.local_path.c_str(), W_OK) != 0) {
        return util::errno_error("cannot write " + e.local_path, errno);
      }
      mode = existing.st_mode & 07777;
    }
    const std::string temp = util::temp_sibling(e.local_path);
    CCREX_TRY(util::make_dirs(util::dirname(e.local_path)));
    CCREX_TRY(util::write_new_file(temp, data, mode));
    staged.push_back({temp, e.local_path});
  }
  for (const auto& s : staged) {
    if (::rename(s.temp.c_str(), s.dest.c_str()) != 0) {
      return util::errno_error("rename " + s.dest, errno);
    }
  }
  staged.clear();
  cleanup.dismiss();
  return {};
}

} // namespace ccrex::agent
