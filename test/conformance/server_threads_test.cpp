#include "support/reapi_fixture.h"
#include "util/file.h"
#include "util/strings.h"

#include <gtest/gtest.h>

#include <dirent.h>

#include <algorithm>
#include <string>
#include <vector>

namespace ccrex::test {
namespace {

// The names of the threads of process `pid`.
std::vector<std::string> thread_names(pid_t pid) {
  std::vector<std::string> names;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = ::opendir(tasks.c_str());
  if (dir == nullptr) {
    return names;
  }
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') {
      continue;
    }
    if (auto comm = util::read_file(tasks + "/" + entry->d_name + "/comm")) {
      names.emplace_back(util::trim(*comm));
    }
  }
  ::closedir(dir);
  return names;
}

size_t count_named(const std::vector<std::string>& names, const std::string& name) {
  return static_cast<size_t>(std::count(names.begin(), names.end(), name));
}

using ServerThreads = ReapiFixture;

// ccrex-server's services are synchronous ones, polled by gRPC's synchronous-server
// threads. Any callback service (a callback generic service for unknown methods, say)
// would make gRPC hand all polling to its shared callback threads, which sleep 100 ms
// after each idle second, during which arriving calls wait (unimplemented_service.h). None
// of those threads may exist while the server answers both kinds of call.
TEST_F(ServerThreads, NoCallbackThreads) {
  const auto served = raw_call("/build.bazel.remote.execution.v2.Capabilities/GetCapabilities");
  EXPECT_TRUE(served.ok()) << served.error_message();
  const auto unknown = raw_call("/no.such.Service/Method");
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(unknown.error_message().find("/no.such.Service/Method"), std::string::npos);

  const auto names = thread_names(server().pid());
  // The names looked for are gRPC's: its synchronous server's pollers are there by theirs.
  EXPECT_GE(count_named(names, "grpcpp_sync_ser"), 1U) << util::join(names, ", ");
  EXPECT_EQ(count_named(names, "nexting_thread"), 0U) << util::join(names, ", ");
}

} // namespace
} // namespace ccrex::test
