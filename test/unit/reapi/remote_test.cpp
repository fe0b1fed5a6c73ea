#include "reapi/merkle_tree.h"
#include "reapi/remote.h"
#include "support/fake_remote.h"

#include <gtest/gtest.h>

namespace ccrex::reapi {
namespace {

using test::FakeRemote;

// An action over the tree {src/a.c, src/inc/b.h}, its inputs ready for upload.
ActionInputs make_inputs() {
  MerkleTree tree;
  EXPECT_TRUE(tree.add_file("src/a.c", digest_of("int a;"), false, BlobSource::bytes("int a;")));
  EXPECT_TRUE(tree.add_file("src/inc/b.h", digest_of("#x"), false, BlobSource::bytes("#x")));
  auto root = tree.build();
  ActionInputs inputs;
  inputs.blobs = root.blobs;
  inputs.directories = root.directories;
  v2::Command command;
  command.add_arguments("cc");
  v2::Action action;
  *action.mutable_command_digest() = add_message(inputs.blobs, command);
  *action.mutable_input_root_digest() = root.root_digest;
  inputs.action_digest = add_message(inputs.blobs, action);
  return inputs;
}

// Execute handler: report every input blob the fake does not hold as missing, else succeed.
FakeRemote::ExecuteHandler checking_handler(FakeRemote& fake, const ActionInputs& inputs) {
  return
      [&fake, &inputs](const v2::Digest&, const ExecuteOptions&) -> RemoteResult<ExecuteOutcome> {
        Failure f = FakeRemote::failure(FailureKind::missing_blobs, "missing");
        for (const auto& [key, blob] : inputs.blobs) {
          if (!fake.has(blob.digest)) {
            f.missing.push_back(blob.digest);
          }
        }
        if (!f.missing.empty()) {
          return f;
        }
        ExecuteOutcome outcome;
        outcome.response.mutable_result()->set_exit_code(0);
        return outcome;
      };
}

TEST(UploadAndExecute, UploadsOnceAndExecutes) {
  FakeRemote fake;
  const auto inputs = make_inputs();
  fake.set_execute_handler(checking_handler(fake, inputs));
  auto outcome = upload_and_execute(fake, inputs, {});
  ASSERT_TRUE(outcome) << outcome.error().to_string();
  EXPECT_EQ(fake.execute_calls(), 1);
  EXPECT_EQ(fake.uploads().size(), inputs.blobs.size());
}

TEST(UploadAndExecute, ReuploadsExactlyTheMissingBlobs) {
  FakeRemote fake;
  const auto inputs = make_inputs();
  const v2::Digest evicted = digest_of("#x");
  bool evict = true;
  fake.set_execute_handler([&](const v2::Digest& a, const ExecuteOptions& o) {
    if (evict) { // the blob vanishes between upload and execution
      evict = false;
      fake.erase(evicted);
    }
    return checking_handler(fake, inputs)(a, o);
  });
  auto outcome = upload_and_execute(fake, inputs, {});
  ASSERT_TRUE(outcome) << outcome.error().to_string();
  EXPECT_EQ(fake.execute_calls(), 2);
  const auto uploads = fake.uploads();
  ASSERT_EQ(uploads.size(), inputs.blobs.size() + 1);
  EXPECT_EQ(uploads.back(), to_string(evicted));
  // What the engine reported missing is no longer assumed to be there.
  EXPECT_EQ(fake.forgotten(), std::vector<std::string>{to_string(evicted)});
}

TEST(BlobsToReupload, MissingDirectoryBringsItsSubtree) {
  MerkleTree tree;
  ASSERT_TRUE(tree.add_file("top.c", digest_of("top"), false, BlobSource::bytes("top")));
  ASSERT_TRUE(tree.add_file("src/a.c", digest_of("int a;"), false, BlobSource::bytes("int a;")));
  ASSERT_TRUE(tree.add_file("src/inc/b.h", digest_of("#x"), false, BlobSource::bytes("#x")));
  ASSERT_TRUE(tree.add_file("src/empty.h", digest_of(""), false, BlobSource::bytes("")));
  const auto root = tree.build();
  ActionInputs inputs;
  inputs.blobs = root.blobs;
  inputs.directories = root.directories;
  const auto& root_dir = root.directories.at(to_string(root.root_digest));
  ASSERT_EQ(root_dir.directories(0).name(), "src");
  const v2::Digest src = root_dir.directories(0).digest();

  auto blobs = blobs_to_reupload(inputs, {src, digest_of("")});
  ASSERT_TRUE(blobs) << blobs.error().message();
  std::set<std::string> keys;
  for (const auto& b : *blobs) {
    keys.insert(to_string(b.digest));
  }
  // src, src/inc, a.c and b.h; not the root, not top.c, never the empty blob.
  EXPECT_EQ(keys.size(), 4U);
  EXPECT_TRUE(keys.count(to_string(src)));
  EXPECT_TRUE(keys.count(to_string(digest_of("int a;"))));
  EXPECT_TRUE(keys.count(to_string(digest_of("#x"))));
  EXPECT_FALSE(keys.count(to_string(digest_of("top"))));
  EXPECT_FALSE(keys.count(to_string(root.root_digest)));
}

TEST(UploadAndExecute, RoundsAreBounded) {
  FakeRemote fake;
  const auto inputs = make_inputs();
  fake.set_execute_handler(
      [&](const v2::Digest&, const ExecuteOptions&) -> RemoteResult<ExecuteOutcome> {
        Failure f = FakeRemote::failure(FailureKind::missing_blobs, "always missing");
        f.missing.push_back(inputs.action_digest);
        return f;
      });
  auto outcome = upload_and_execute(fake, inputs, {}, 3);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().kind, FailureKind::missing_blobs);
  EXPECT_EQ(fake.execute_calls(), 3);
}

TEST(UploadAndExecute, UnknownMissingBlobIsAnError) {
  FakeRemote fake;
  const auto inputs = make_inputs();
  fake.set_execute_handler(
      [&](const v2::Digest&, const ExecuteOptions&) -> RemoteResult<ExecuteOutcome> {
        Failure f = FakeRemote::failure(FailureKind::missing_blobs, "missing");
        f.missing.push_back(digest_of("not an input"));
        return f;
      });
  auto outcome = upload_and_execute(fake, inputs, {});
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().kind, FailureKind::error);
  EXPECT_EQ(fake.execute_calls(), 1);
}

TEST(UploadAndExecute, UploadFailureKeepsItsKind) {
  FakeRemote fake;
  fake.fail_with(
      FakeRemote::failure(FailureKind::unavailable, "down", util::ErrorCode::unavailable));
  auto outcome = upload_and_execute(fake, make_inputs(), {});
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().kind, FailureKind::unavailable);
  EXPECT_EQ(fake.execute_calls(), 0);
}

} // namespace
} // namespace ccrex::reapi
