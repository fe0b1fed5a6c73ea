// Load: 64 concurrent clients doing 50 executions each against one ccrex-server. No request
// may fail, every result must carry the output its own command wrote, and the server's
// memory must stay bounded.

#include "conformance/execution_support.h"
#include "util/file.h"
#include "util/strings.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace ccrex::test {
namespace {

constexpr int k_clients = 64;
constexpr int k_actions_per_client = 50;

// Resident set size of `pid` in KiB (VmRSS), or -1.
int64_t rss_kib(pid_t pid) {
  auto status = util::read_file("/proc/" + std::to_string(pid) + "/status");
  if (!status) {
    return -1;
  }
  for (const auto line : util::split(*status, '\n')) {
    if (line.rfind("VmRSS:", 0) == 0) {
      auto v = util::parse_int(util::trim(line.substr(6, line.size() - 6 - 3)));
      return v ? *v : -1;
    }
  }
  return -1;
}

class Load : public ExecutionFixture {
protected:
  std::vector<std::string> server_args() const override { return {"--workers", "4"}; }
};

TEST_F(Load, SixtyFourClientsFiftyActionsEach) {
  // Warm up, then take the baseline memory.
  auto warm = run_ok(action(command({"/bin/sh", "-c", "echo warm > out"}, {"out"})));
  ASSERT_EQ(warm.result().exit_code(), 0);
  const int64_t rss_before = rss_kib(server().pid());
  ASSERT_GT(rss_before, 0);

  std::atomic<int> failures{0};
  std::atomic<int> done{0};
  std::mutex report_mutex;
  std::string first_failure;
  const auto fail = [&](const std::string& what) {
    const std::lock_guard lock(report_mutex);
    if (failures++ == 0) {
      first_failure = what;
    }
  };
  std::vector<std::thread> clients;
  for (int c = 0; c < k_clients; ++c) {
    clients.emplace_back([&, c] {
      auto channel = grpc::CreateChannel(server().address(), grpc::InsecureChannelCredentials());
      auto exec_stub = v2::Execution::NewStub(channel);
      auto cas_stub = v2::ContentAddressableStorage::NewStub(channel);
      for (int i = 0; i < k_actions_per_client; ++i) {
        // Half the actions repeat across clients (cache hits or merged executions).
        const std::string token = i % 2 == 0 ? std::to_string(c) + "-" + std::to_string(i)
                                             : "shared-" + std::to_string(i);
        v2::Command cmd = command({"/bin/sh", "-c", "echo " + token + " > out"}, {"out"});
        v2::Action a;
        *a.mutable_command_digest() = reapi::digest_of_message(cmd);
        *a.mutable_input_root_digest() = reapi::digest_of("");
        v2::BatchUpdateBlobsRequest up;
        for (const std::string& data : {cmd.SerializeAsString(), a.SerializeAsString()}) {
          auto* r = up.add_requests();
          *r->mutable_digest() = reapi::digest_of(data);
          r->set_data(data);
        }
        v2::BatchUpdateBlobsResponse up_resp;
        grpc::ClientContext up_ctx;
        if (!cas_stub->BatchUpdateBlobs(&up_ctx, up, &up_resp).ok()) {
          fail("upload failed");
          continue;
        }
        v2::ExecuteRequest req;
        *req.mutable_action_digest() = reapi::digest_of_message(a);
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
        auto reader = exec_stub->Execute(&ctx, req);
        const auto out = read_stream(*reader);
        if (!out.status.ok() || !out.done || out.response.status().code() != 0
            || out.response.result().output_files_size() != 1) {
          fail("execute " + token + ": " + out.status.error_message() + " "
               + out.response.status().message());
          continue;
        }
        v2::BatchReadBlobsRequest rd;
        *rd.add_digests() = out.response.result().output_files(0).digest();
        v2::BatchReadBlobsResponse rd_resp;
        grpc::ClientContext rd_ctx;
        if (!cas_stub->BatchReadBlobs(&rd_ctx, rd, &rd_resp).ok()
            || rd_resp.responses(0).data() != token + "\n") {
          fail("wrong or missing output for " + token);
          continue;
        }
        ++done;
      }
    });
  }
  for (auto& t : clients) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0) << first_failure;
  EXPECT_EQ(done.load(), k_clients * k_actions_per_client);
  const int64_t rss_after = rss_kib(server().pid());
  // Bounded: growth stays well below what keeping every request would take. (An
  // AddressSanitizer build holds freed memory in quarantine, up to 256 MiB by default.)
#ifdef __SANITIZE_ADDRESS__
  constexpr int64_t k_max_growth_kib = 512 * 1024;
#else
  constexpr int64_t k_max_growth_kib = 128 * 1024;
#endif
  RecordProperty("rss_growth_kib", std::to_string(rss_after - rss_before));
  EXPECT_LT(rss_after - rss_before, k_max_growth_kib)
      << "RSS grew from " << rss_before << " KiB to " << rss_after << " KiB";
}

} // namespace
} // namespace ccrex::test
