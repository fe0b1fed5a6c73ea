// ccrex-server: a standalone REAPI server (see src/server/local_server.h).

#include "server/action_cache.h"
#include "server/blob_store.h"
#include "server/cli.h"
#include "server/serve.h"
#include "util/logging.h"

#include <iostream>

namespace {

using namespace ccrex;

int check_store(const server::Config& cfg) {
  auto store = server::BlobStore::open(cfg.cache_dir, cfg.max_size);
  if (!store) {
    std::cerr << "ccrex-server: " << store.error().message() << "\n";
    return 1;
  }
  const auto bad = (*store)->verify_all();
  for (const auto& hash : bad) {
    std::cout << "damaged blob " << hash << "\n";
  }
  // Action results: each must parse; one whose blobs are gone is stale (normal after
  // eviction, never after a crash alone) and is reported as a miss by the server.
  server::ActionCache cache(**store);
  int unreadable = 0;
  int stale = 0;
  (*store)->for_each_action_result([&](const std::string& key, const std::string& bytes) {
    reapi::v2::ActionResult result;
    if (!result.ParseFromString(bytes)) {
      std::cout << "unreadable action result " << key << "\n";
      ++unreadable;
    } else if (!cache.missing_blobs(result).empty()) {
      std::cout << "stale action result " << key << " (refers to missing blobs)\n";
      ++stale;
    }
  });
  std::cout << "ccrex-server: checked " << (*store)->total_size() << " bytes, " << bad.size()
            << " damaged blob(s), " << unreadable << " unreadable and " << stale
            << " stale action result(s)\n";
  return bad.empty() && unreadable == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto opts = server::parse_cli(args);
  if (!opts) {
    std::cerr << "ccrex-server: " << opts.error().message() << "\n";
    return 2;
  }
  if (opts->help) {
    std::cout << server::usage();
    return 0;
  }
  if (opts->version) {
    std::cout << "ccrex-server " << CCREX_VERSION << "\n";
    return 0;
  }
  util::logging::Level level{};
  if (!util::logging::parse_level(opts->log_level, level)) {
    std::cerr << "ccrex-server: invalid --log-level '" << opts->log_level << "'\n";
    return 2;
  }
  util::logging::log_to_stderr(level);
  return opts->check ? check_store(opts->config)
                     : server::serve_until_signalled(opts->config, {}, opts->log_file);
}
