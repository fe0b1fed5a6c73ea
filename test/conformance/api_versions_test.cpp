// Conformance checks for --api-versions: ccrex-server advertises exactly the configured
// range and reads the output fields that range implies, as engines in the field do (a 2.0
// engine knows only output_files/output_directories; a 2.1+ engine such as buildbox-casd
// reads only output_paths). Hostile output paths are refused under every range.

#include "execution_support.h"

#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>
#include <vector>

namespace ccrex::test {
namespace {

// A fixture whose server speaks `versions()`.
class VersionedServer : public ExecutionFixture {
protected:
  virtual std::string versions() const = 0;
  std::vector<std::string> server_args() const override {
    return {"--workers", "1", "--api-versions", versions()};
  }

  v2::ServerCapabilities capabilities() {
    v2::GetCapabilitiesRequest req;
    v2::ServerCapabilities c;
    grpc::ClientContext ctx;
    const auto st = caps->GetCapabilities(&ctx, req, &c);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return c;
  }

  // A command that writes p.txt, f.txt and d/in.txt, and reports on stdout whether the
  // parent directories pdir/ (of an output path) and fdir/ (of an output file) existed
  // before it ran.
  static v2::Command writer(bool with_paths, bool with_legacy) {
    auto cmd = command({"sh",
                        "-c",
                        "for d in pdir fdir; do test -d $d && echo $d; done; "
                        "echo p > p.txt; echo f > f.txt; mkdir -p d; echo in > d/in.txt"});
    if (with_paths) {
      cmd.add_output_paths("p.txt");
      cmd.add_output_paths("pdir/x.txt");
    }
    if (with_legacy) {
      cmd.add_output_directories("d");
      cmd.add_output_files("f.txt");
      cmd.add_output_files("fdir/x.txt");
    }
    return cmd;
  }

  // Paths of every output in `r`, whatever its kind.
  static std::multiset<std::string> output_names(const v2::ActionResult& r) {
    std::multiset<std::string> names;
    for (const auto& f : r.output_files()) {
      names.insert(f.path());
    }
    for (const auto& d : r.output_directories()) {
      names.insert(d.path() + "/");
    }
    for (const auto& s : r.output_symlinks()) {
      names.insert(s.path() + "@");
    }
    return names;
  }
};

class Only20 : public VersionedServer {
  std::string versions() const override { return "2.0"; }
};
class From21 : public VersionedServer {
  std::string versions() const override { return "2.1+"; }
};
class Only21To22 : public VersionedServer {
  std::string versions() const override { return "2.1-2.2"; }
};
class AllVersions : public VersionedServer {
  std::string versions() const override { return "2.0-2.2"; }
};
class DefaultVersions : public ExecutionFixture {};

void expect_range(const v2::ServerCapabilities& c, int low, int high) {
  for (const auto* v : {&c.deprecated_api_version(), &c.low_api_version()}) {
    EXPECT_EQ(v->major(), 2);
    EXPECT_EQ(v->minor(), low);
  }
  EXPECT_EQ(c.high_api_version().major(), 2);
  EXPECT_EQ(c.high_api_version().minor(), high);
}

TEST_F(Only20, AdvertisesTheRange) {
  expect_range(capabilities(), 0, 0);
}

TEST_F(From21, AdvertisesTheRange) {
  expect_range(capabilities(), 1, 2);
}

TEST_F(Only21To22, AdvertisesTheRange) {
  expect_range(capabilities(), 1, 2);
}

TEST_F(AllVersions, AdvertisesTheRange) {
  expect_range(capabilities(), 0, 2);
}

TEST_F(DefaultVersions, AdvertisesTwoZeroToTwoTwo) {
  v2::GetCapabilitiesRequest req;
  v2::ServerCapabilities c;
  grpc::ClientContext ctx;
  ASSERT_TRUE(caps->GetCapabilities(&ctx, req, &c).ok());
  expect_range(c, 0, 2);
}

TEST_F(Only20, IgnoresOutputPathsAndCollectsTheTwoZeroFields) {
  const auto r = run_ok(action(writer(true, true))).result();
  EXPECT_EQ(output_names(r), (std::multiset<std::string>{"f.txt", "d/"}));
  // Only the parents of the fields read were created.
  EXPECT_EQ(blob(r.stdout_digest()), "fdir\n");
}

TEST_F(Only20, OutputPathsAloneCollectNothing) {
  const auto r = run_ok(action(writer(true, false))).result();
  EXPECT_EQ(r.exit_code(), 0);
  EXPECT_TRUE(output_names(r).empty());
  EXPECT_EQ(blob(r.stdout_digest()), "");
}

TEST_F(From21, IgnoresTheTwoZeroFields) {
  const auto r = run_ok(action(writer(false, true))).result();
  EXPECT_EQ(r.exit_code(), 0);
  EXPECT_TRUE(output_names(r).empty());
  EXPECT_EQ(blob(r.stdout_digest()), ""); // fdir/ was not created either
}

TEST_F(From21, CollectsOutputPathsWhenBothAreSent) {
  const auto r = run_ok(action(writer(true, true))).result();
  EXPECT_EQ(output_names(r), (std::multiset<std::string>{"p.txt"}));
  EXPECT_EQ(blob(r.stdout_digest()), "pdir\n");
}

TEST_F(Only21To22, IgnoresTheTwoZeroFields) {
  const auto r = run_ok(action(writer(false, true))).result();
  EXPECT_TRUE(output_names(r).empty());
}

TEST_F(AllVersions, BothFieldsCollectOutputPathsOnce) {
  // The client of a 2.0-2.2 server sends the same outputs in both forms.
  auto cmd = command({"sh", "-c", "echo x > a.txt; mkdir d; echo y > d/y"});
  cmd.add_output_paths("a.txt");
  cmd.add_output_paths("d");
  cmd.add_output_files("a.txt");
  cmd.add_output_directories("d");
  const auto r = run_ok(action(cmd)).result();
  EXPECT_EQ(output_names(r), (std::multiset<std::string>{"a.txt", "d/"}));
}

TEST_F(AllVersions, TwoZeroFieldsAloneAreCollected) {
  const auto r = run_ok(action(writer(false, true))).result();
  EXPECT_EQ(output_names(r), (std::multiset<std::string>{"f.txt", "d/"}));
  EXPECT_EQ(blob(r.stdout_digest()), "fdir\n");
}

TEST_F(AllVersions, OutputPathsWinOverTheTwoZeroFields) {
  const auto r = run_ok(action(writer(true, true))).result();
  EXPECT_EQ(output_names(r), (std::multiset<std::string>{"p.txt"}));
  EXPECT_EQ(blob(r.stdout_digest()), "pdir\n");
}

// Every hostile path in every output field is refused, whatever the range reads.
class HostileOutputs : public VersionedServer, public ::testing::WithParamInterface<const char*> {
protected:
  std::string versions() const override { return GetParam(); }
};

TEST_P(HostileOutputs, AreInvalidInEveryField) {
  for (const char* path : {"..", "/abs", "./../x", "../..", "a/../../x"}) {
    for (int field = 0; field < 3; ++field) {
      auto cmd = command({"true"});
      if (field == 0) {
        cmd.add_output_paths(path);
      } else if (field == 1) {
        cmd.add_output_files(path);
      } else {
        cmd.add_output_directories(path);
      }
      const auto out = execute(action(cmd));
      EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << "'" << path << "' in field " << field << " under " << GetParam();
      EXPECT_FALSE(out.status.error_message().empty());
      EXPECT_FALSE(out.done);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ranges,
                         HostileOutputs,
                         ::testing::Values("2.0", "2.1+", "2.0-2.2"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) {
                             c = std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
                           }
                           return name;
                         });

} // namespace
} // namespace ccrex::test
