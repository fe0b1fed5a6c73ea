// A client cannot fill the execution queue: beyond its own share, or beyond the server's
// bound, Execute answers RESOURCE_EXHAUSTED at once instead of queueing without end, and
// another client can still queue its work.

#include "conformance/execution_support.h"
#include "hostile/hostile_support.h"

#include <gtest/gtest.h>

#include <thread>

namespace ccrex::test {
namespace {

using namespace std::chrono_literals;

class QueueLimits : public ExecutionFixture {
protected:
  std::vector<std::string> server_args() const override {
    return {"--workers", "1", "--max-queued", "3", "--max-queued-per-client", "2"};
  }
  bool accepts_client_results() const override { return false; }

  // A long action of its own (a different digest per `n`) on `instance`.
  v2::Digest sleeper(int n) {
    return action(command({"/bin/sh", "-c", "sleep 60; echo " + std::to_string(n)}));
  }

  // Start an Execute on `instance` and return the stage of its first operation, after
  // which the stream stays open in `ctx`/`reader`. An Execute refused at once has no
  // operation: -1.
  struct Open {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReader<google::longrunning::Operation>> reader;
  };
  int open_execute(Open& o, const v2::Digest& digest, const std::string& instance) {
    v2::ExecuteRequest req;
    req.set_instance_name(instance);
    *req.mutable_action_digest() = digest;
    o.ctx.set_deadline(std::chrono::system_clock::now() + 120s);
    o.reader = exec->Execute(&o.ctx, req);
    google::longrunning::Operation op;
    if (!o.reader->Read(&op)) {
      return -1;
    }
    v2::ExecuteOperationMetadata meta;
    op.metadata().UnpackTo(&meta);
    return meta.stage();
  }

  // One Execute that must be refused: the status it ends with within 10 s.
  grpc::Status refused_execute(const v2::Digest& digest, const std::string& instance) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    v2::ExecuteRequest req;
    req.set_instance_name(instance);
    *req.mutable_action_digest() = digest;
    auto reader = exec->Execute(&ctx, req);
    google::longrunning::Operation op;
    while (reader->Read(&op)) {
    }
    return reader->Finish();
  }
};

TEST_F(QueueLimits, OneClientGetsItsShareAndTheServerItsBound) {
  // Client "a" (by instance) keeps the only worker busy and queues its share.
  std::vector<std::unique_ptr<Open>> open;
  for (int n = 0; n < 3; ++n) {
    open.push_back(std::make_unique<Open>());
    ASSERT_GE(open_execute(*open.back(), sleeper(n), "a"), 0) << "Execute " << n;
    std::this_thread::sleep_for(300ms); // the first one reaches the worker
  }
  // A third queued action of "a" is refused at once, not queued for a minute.
  const auto st = refused_execute(sleeper(10), "a");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();

  // Another client still gets into the queue...
  open.push_back(std::make_unique<Open>());
  EXPECT_GE(open_execute(*open.back(), sleeper(20), "b"), 0);
  // ... up to the server's bound of three queued actions.
  const auto full = refused_execute(sleeper(21), "b");
  EXPECT_EQ(full.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << full.error_message();

  for (auto& o : open) {
    o->ctx.TryCancel();
    google::longrunning::Operation op;
    while (o->reader->Read(&op)) {
    }
    o->reader->Finish();
  }
}

} // namespace
} // namespace ccrex::test
