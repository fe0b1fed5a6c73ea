#include "server/result_inlining.h"

#include "reapi/digest.h"

#include <algorithm>

namespace ccrex::server {

int64_t inline_outputs(BlobStore& store,
                       const reapi::InlineOptions& options,
                       reapi::v2::ActionResult& result) {
  int64_t budget = k_max_inline_bytes;
  const auto inline_blob = [&](const reapi::v2::Digest& d, std::string* out) {
    if (d.size_bytes() <= 0 || d.size_bytes() > budget || !out->empty()) {
      return;
    }
    if (auto data = store.read(reapi::from_proto(d))) {
      budget -= d.size_bytes();
      *out = std::move(data).value();
    }
  };
  if (options.inline_stdout) {
    inline_blob(result.stdout_digest(), result.mutable_stdout_raw());
  }
  if (options.inline_stderr) {
    inline_blob(result.stderr_digest(), result.mutable_stderr_raw());
  }
  const auto& wanted = options.inline_output_files;
  for (auto& f : *result.mutable_output_files()) {
    if (std::find(wanted.begin(), wanted.end(), f.path()) != wanted.end()) {
      inline_blob(f.digest(), f.mutable_contents());
    }
  }
  return k_max_inline_bytes - budget;
}

} // namespace ccrex::server
