#include "agent/output_writer.h"
#include "reapi/digest.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <map>

namespace ccrex::agent {
namespace {

namespace v2 = reapi::v2;

class OutputWriter : public ::testing::Test {
protected:
  void SetUp() override {
    expected = {{"a.o", dir.path() + "/a.o"}, {"a.d", dir.path() + "/a.d"}};
    fetch = [this](const v2::Digest& d) -> util::Result<std::string> {
      const auto it = blobs.find(d.hash());
      if (it == blobs.end()) {
        return util::not_found("no blob");
      }
      return it->second;
    };
  }
  v2::OutputFile* add(v2::ActionResult& r, const std::string& path, const std::string& data) {
    auto* f = r.add_output_files();
    f->set_path(path);
    *f->mutable_digest() = reapi::digest_of(data);
    blobs[f->digest().hash()] = data;
    return f;
  }

  util::TempDir dir;
  std::vector<ExpectedOutput> expected;
  std::map<std::string, std::string> blobs;
  BlobFetcher fetch;
};

// An output the result does not hold is left as it is, as by a compile that does not
// write it (gcc keeps an old object when a compile fails).
TEST_F(OutputWriter, WritesEveryOutputAndLeavesUnproducedOnes) {
  ASSERT_TRUE(util::write_file_atomic(dir.path() + "/a.d", "old"));
  v2::ActionResult r;
  add(r, "a.o", "object");
  ASSERT_TRUE(write_outputs(r, expected, fetch));
  EXPECT_EQ(*util::read_file(dir.path() + "/a.o"), "object");
  EXPECT_EQ(*util::read_file(dir.path() + "/a.d"), "old");
}

// A successful result without a required output (an engine that did not collect it) is
// incomplete: nothing of it is written. A failed compile may lack it.
TEST_F(OutputWriter, SuccessWithoutARequiredOutputIsRejected) {
  expected[0].required = true;
  ASSERT_TRUE(util::write_file_atomic(dir.path() + "/a.d", "old"));
  v2::ActionResult r;
  add(r, "a.d", "new");
  const auto st = write_outputs(r, expected, fetch);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("incomplete result"), std::string::npos);
  EXPECT_EQ(*util::read_file(dir.path() + "/a.d"), "old");
  EXPECT_FALSE(util::path_exists(dir.path() + "/a.o"));
  r.set_exit_code(1);
  EXPECT_TRUE(write_outputs(r, expected, fetch));
  EXPECT_EQ(*util::read_file(dir.path() + "/a.d"), "new");
  // With the object present the success is complete; a.d is not required here.
  v2::ActionResult only_object;
  add(only_object, "a.o", "object");
  EXPECT_TRUE(write_outputs(only_object, expected, fetch));
}

TEST_F(OutputWriter, ModesFollowTheClientsUmaskNotTheAgents) {
  v2::ActionResult r;
  add(r, "a.o", "object");
  add(r, "a.d", "a.o: a.c\n")->set_is_executable(true);
  ASSERT_TRUE(write_outputs(r, expected, fetch, 027));
  const auto mode = [&](const std::string& name) {
    struct stat st {};
    EXPECT_EQ(::stat((dir.path() + "/" + name).c_str(), &st), 0);
    return st.st_mode & 07777;
  };
  EXPECT_EQ(mode("a.o"), 0640U);
  EXPECT_EQ(mode("a.d"), 0750U);
  ASSERT_TRUE(write_outputs(r, expected, fetch, 0));
  EXPECT_EQ(mode("a.o"), 0666U);
}

// The compiler opens an existing dependency file for writing: it keeps its mode. The
// object is replaced by a new file with the umask's mode.
TEST_F(OutputWriter, AnExistingDependencyFileKeepsItsMode) {
  expected[1].in_place = true;
  for (const std::string name : {"a.o", "a.d"}) {
    ASSERT_TRUE(util::write_file_atomic(dir.path() + "/" + name, "old"));
    ASSERT_EQ(::chmod((dir.path() + "/" + name).c_str(), 0604), 0);
  }
  v2::ActionResult r;
  add(r, "a.o", "object");
  add(r, "a.d", "a.o: a.c\n");
  ASSERT_TRUE(write_outputs(r, expected, fetch, 022));
  const auto mode = [&](const std::string& name) {
    struct stat st {};
    EXPECT_EQ(::stat((dir.path() + "/" + name).c_str(), &st), 0);
    return st.st_mode & 07777;
  };
  EXPECT_EQ(mode("a.o"), 0644U);
  EXPECT_EQ(mode("a.d"), 0604U);
  EXPECT_EQ(*util::read_file(dir.path() + "/a.d"), "a.o: a.c\n");
  // A new dependency file gets the umask's mode.
  ASSERT_EQ(::unlink((dir.path() + "/a.d").c_str()), 0);
  ASSERT_TRUE(write_outputs(r, expected, fetch, 027));
  EXPECT_EQ(mode("a.d"), 0640U);
}

TEST_F(OutputWriter, RejectsPathsNotAskedFor) {
  for (const std::string path : {"/etc/passwd", "../a.o", "sub/../a.o", "b.o"}) {
    ASSERT_TRUE(util::write_file_atomic(dir.path() + "/a.o", "old"));
    v2::ActionResult r;
    add(r, "a.o", "new");
    add(r, path, "evil");
    EXPECT_FALSE(write_outputs(r, expected, fetch)) << path;
    EXPECT_EQ(*util::read_file(dir.path() + "/a.o"), "old") << "nothing written for " << path;
  }
}

TEST_F(OutputWriter, WrongBytesOrMissingBlobLeaveOldFiles) {
  ASSERT_TRUE(util::write_file_atomic(dir.path() + "/a.o", "old"));
  v2::ActionResult r;
  add(r, "a.d", "deps");
  auto* f = add(r, "a.o", "object");
  blobs[f->digest().hash()] = "tampered";
  auto st = write_outputs(r, expected, fetch);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), util::ErrorCode::data_loss);
  EXPECT_EQ(*util::read_file(dir.path() + "/a.o"), "old");
  EXPECT_FALSE(util::path_exists(dir.path() + "/a.d")); // all or nothing

  blobs.clear();
  EXPECT_FALSE(write_outputs(r, expected, fetch));
  EXPECT_EQ(*util::read_file(dir.path() + "/a.o"), "old");
}

TEST_F(OutputWriter, RejectsDirectoriesAndSymlinks) {
  v2::ActionResult r;
  auto* s = r.add_output_file_symlinks();
  s->set_path("a.o");
  s->set_target("/etc/passwd");
  EXPECT_FALSE(write_outputs(r, expected, fetch));
  EXPECT_FALSE(util::path_exists(dir.path() + "/a.o"));
}

TEST_F(OutputWriter, StreamsInlineOrFetchedAndVerified) {
  v2::ActionResult r;
  r.set_stdout_raw("inline out");
  *r.mutable_stderr_digest() = reapi::digest_of("warning\n");
  blobs[r.stderr_digest().hash()] = "warning\n";
  auto s = fetch_streams(r, fetch);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->first, "inline out");
  EXPECT_EQ(s->second, "warning\n");
  blobs[r.stderr_digest().hash()] = "lies\n";
  EXPECT_FALSE(fetch_streams(r, fetch));
}

TEST_F(OutputWriter, InlineStreamsMustMatchADigestSentAlongside) {
  v2::ActionResult r;
  r.set_stdout_raw("inline out");
  *r.mutable_stdout_digest() = reapi::digest_of("inline out");
  EXPECT_TRUE(fetch_streams(r, fetch));
  *r.mutable_stdout_digest() = reapi::digest_of("other bytes");
  const auto lie = fetch_streams(r, fetch);
  ASSERT_FALSE(lie);
  EXPECT_NE(lie.error().message().find("stdout"), std::string::npos);
}

} // namespace
} // namespace ccrex::agent
