#pragma once

// Helpers of the hostile tests: calling every REAPI method as a given caller, writing token
// files, and running a ccrex-server that is expected to refuse to start.

#include "reapi/digest.h"
#include "reapi/proto.h"
#include "support/server_process.h"
#include "util/file.h"
#include "util/sha256.h"
#include "util/subprocess.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <dirent.h>

#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ccrex::test {

namespace v2 = reapi::v2;
namespace bs = reapi::bytestream;

// A plaintext channel to `address` ("127.0.0.1:PORT" or "unix:/path").
inline std::shared_ptr<grpc::Channel> plain_channel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

// The stubs of every service, with the caller's bearer token (empty: none) on each call.
class Caller {
public:
  Caller(const std::shared_ptr<grpc::Channel>& channel, std::string token)
      : cas(v2::ContentAddressableStorage::NewStub(channel)),
        ac(v2::ActionCache::NewStub(channel)),
        caps(v2::Capabilities::NewStub(channel)),
        exec(v2::Execution::NewStub(channel)),
        bytestream(bs::ByteStream::NewStub(channel)),
        m_token(std::move(token)) {}

  // Prepare `ctx` for one call: a deadline and the token.
  void prepare(grpc::ClientContext& ctx) const {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (!m_token.empty()) {
      ctx.AddMetadata("authorization", "Bearer " + m_token);
    }
  }

  grpc::Status capabilities(const std::string& instance, v2::ServerCapabilities* out) {
    grpc::ClientContext ctx;
    prepare(ctx);
    v2::GetCapabilitiesRequest req;
    req.set_instance_name(instance);
    return caps->GetCapabilities(&ctx, req, out);
  }

  grpc::Status upload(const std::string& data, const std::string& instance = "") {
    grpc::ClientContext ctx;
    prepare(ctx);
    v2::BatchUpdateBlobsRequest req;
    req.set_instance_name(instance);
    auto* r = req.add_requests();
    *r->mutable_digest() = reapi::digest_of(data);
    r->set_data(data);
    v2::BatchUpdateBlobsResponse resp;
    auto st = cas->BatchUpdateBlobs(&ctx, req, &resp);
    if (st.ok() && resp.responses_size() == 1 && resp.responses(0).status().code() != 0) {
      return {static_cast<grpc::StatusCode>(resp.responses(0).status().code()),
              resp.responses(0).status().message()};
    }
    return st;
  }

  // Whether the CAS lacks `d` (asserts that the question was answered).
  bool missing(const v2::Digest& d, const std::string& instance = "") {
    grpc::ClientContext ctx;
    prepare(ctx);
    v2::FindMissingBlobsRequest req;
    req.set_instance_name(instance);
    *req.add_blob_digests() = d;
    v2::FindMissingBlobsResponse resp;
    const auto st = cas->FindMissingBlobs(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.missing_blob_digests_size() == 1;
  }

  grpc::Status update_result(const v2::Digest& action,
                             const v2::ActionResult& result,
                             const std::string& instance = "") {
    grpc::ClientContext ctx;
    prepare(ctx);
    v2::UpdateActionResultRequest req;
    req.set_instance_name(instance);
    *req.mutable_action_digest() = action;
    *req.mutable_action_result() = result;
    v2::ActionResult stored;
    return ac->UpdateActionResult(&ctx, req, &stored);
  }

  grpc::Status get_result(const v2::Digest& action,
                          v2::ActionResult* out = nullptr,
                          const std::string& instance = "") {
    grpc::ClientContext ctx;
    prepare(ctx);
    v2::GetActionResultRequest req;
    req.set_instance_name(instance);
    *req.mutable_action_digest() = action;
    v2::ActionResult result;
    auto st = ac->GetActionResult(&ctx, req, &result);
    if (out != nullptr) {
      *out = result;
    }
    return st;
  }

  // Execute `action`; the first operation's name goes to `name` and the final response to
  // `response` when given.
  grpc::Status execute(const v2::Digest& action,
                       std::string* name = nullptr,
                       v2::ExecuteResponse* response = nullptr,
                       const std::string& instance = "") {
    grpc::ClientContext ctx;
    prepare(ctx);
    v2::ExecuteRequest req;
    req.set_instance_name(instance);
    *req.mutable_action_digest() = action;
    auto reader = exec->Execute(&ctx, req);
    google::longrunning::Operation op;
    while (reader->Read(&op)) {
      if (name != nullptr && name->empty()) {
        *name = op.name();
      }
      if (op.done() && response != nullptr) {
        op.response().UnpackTo(response);
      }
    }
    return reader->Finish();
  }

  grpc::Status wait_execution(const std::string& name) {
    grpc::ClientContext ctx;
    prepare(ctx);
    v2::WaitExecutionRequest req;
    req.set_name(name);
    auto reader = exec->WaitExecution(&ctx, req);
    google::longrunning::Operation op;
    while (reader->Read(&op)) {
    }
    return reader->Finish();
  }

  grpc::Status bytestream_write(const std::string& data, const std::string& instance = "") {
    grpc::ClientContext ctx;
    prepare(ctx);
    bs::WriteResponse resp;
    auto writer = bytestream->Write(&ctx, &resp);
    bs::WriteRequest req;
    req.set_resource_name(reapi::write_resource(
        instance, "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d", reapi::digest_of(data)));
    req.set_data(data);
    req.set_finish_write(true);
    writer->Write(req);
    writer->WritesDone();
    return writer->Finish();
  }

  // Call every method of every service once (with harmless arguments) and return each
  // status by method name.
  std::map<std::string, grpc::Status> call_everything(const std::string& instance = "") {
    std::map<std::string, grpc::Status> out;
    const auto blob = reapi::digest_of("hostile probe");
    v2::ServerCapabilities sc;
    out["GetCapabilities"] = capabilities(instance, &sc);
    {
      grpc::ClientContext ctx;
      prepare(ctx);
      v2::FindMissingBlobsRequest req;
      req.set_instance_name(instance);
      *req.add_blob_digests() = blob;
      v2::FindMissingBlobsResponse resp;
      out["FindMissingBlobs"] = cas->FindMissingBlobs(&ctx, req, &resp);
    }
    out["BatchUpdateBlobs"] = upload("hostile probe", instance);
    {
      grpc::ClientContext ctx;
      prepare(ctx);
      v2::BatchReadBlobsRequest req;
      req.set_instance_name(instance);
      *req.add_digests() = blob;
      v2::BatchReadBlobsResponse resp;
      out["BatchReadBlobs"] = cas->BatchReadBlobs(&ctx, req, &resp);
    }
    {
      grpc::ClientContext ctx;
      prepare(ctx);
      v2::GetTreeRequest req;
      req.set_instance_name(instance);
      *req.mutable_root_digest() = blob;
      auto reader = cas->GetTree(&ctx, req);
      v2::GetTreeResponse resp;
      while (reader->Read(&resp)) {
      }
      out["GetTree"] = reader->Finish();
    }
    out["GetActionResult"] = get_result(blob, nullptr, instance);
    out["UpdateActionResult"] = update_result(blob, v2::ActionResult(), instance);
    out["Execute"] = execute(blob, nullptr, nullptr, instance);
    out["WaitExecution"] = wait_execution((instance.empty() ? "" : instance + "/")
                                          + "operations/00000000000000000000000000000000");
    {
      grpc::ClientContext ctx;
      prepare(ctx);
      bs::ReadRequest req;
      req.set_resource_name(reapi::read_resource(instance, blob));
      auto reader = bytestream->Read(&ctx, req);
      bs::ReadResponse resp;
      while (reader->Read(&resp)) {
      }
      out["Read"] = reader->Finish();
    }
    out["Write"] = bytestream_write("hostile probe", instance);
    {
      grpc::ClientContext ctx;
      prepare(ctx);
      bs::QueryWriteStatusRequest req;
      req.set_resource_name(
          reapi::write_resource(instance, "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d", blob));
      bs::QueryWriteStatusResponse resp;
      out["QueryWriteStatus"] = bytestream->QueryWriteStatus(&ctx, req, &resp);
    }
    return out;
  }

  std::unique_ptr<v2::ContentAddressableStorage::Stub> cas;
  std::unique_ptr<v2::ActionCache::Stub> ac;
  std::unique_ptr<v2::Capabilities::Stub> caps;
  std::unique_ptr<v2::Execution::Stub> exec;
  std::unique_ptr<bs::ByteStream::Stub> bytestream;

private:
  std::string m_token;
};

// One line of a token file granting `roles` on `instance` to `token` (stored hashed).
inline std::string token_line(const std::string& token,
                              const std::string& instance,
                              const std::string& roles,
                              const std::string& name) {
  return "sha256:" + util::sha256_hex(token) + " instance=" + instance + " roles=" + roles
         + " name=" + name + "\n";
}

// Run ccrex-server with `args` until it exits (at most `limit`); a server that is still
// running then is killed and reported with timed_out.
inline util::SubprocessResult
run_server_to_exit(const std::vector<std::string>& args,
                   std::chrono::seconds limit = std::chrono::seconds(10)) {
  util::SubprocessOptions o;
  o.argv = {server_binary()};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.timeout = limit;
  auto r = util::run_subprocess(o);
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  return r ? std::move(r).value() : util::SubprocessResult{};
}

// Whether a process has `word` in its command line; with `kill_them`, also SIGKILL each one,
// so that a failed test leaves nothing behind for the next run to find.
inline bool process_with_word(const std::string& word, bool kill_them = false) {
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) {
    return false;
  }
  bool found = false;
  while (const dirent* e = ::readdir(proc)) {
    const std::string name = e->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    auto cmdline = util::read_file("/proc/" + name + "/cmdline");
    if (cmdline && cmdline->find(word) != std::string::npos) {
      found = true;
      if (kill_them) {
        ::kill(static_cast<pid_t>(std::stol(name)), SIGKILL);
      }
    }
  }
  ::closedir(proc);
  return found;
}

// The lines of `text` that are not empty.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      end = text.size();
    }
    if (end > start) {
      out.push_back(text.substr(start, end - start));
    }
    start = end + 1;
  }
  return out;
}

} // namespace ccrex::test
