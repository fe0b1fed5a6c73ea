#pragma once

// Starting ccrex-test-engine (test/support/test_engine_main.cpp), the REAPI engine that lies,
// the same way ServerProcess starts ccrex-server: on 127.0.0.1:0 in a fresh cache directory,
// with the address read from its "listening on" line.
//
//   auto engine = start_test_engine("empty-result");
//   ASSERT_TRUE(engine->ok()) << engine->error();
//   auto channel = grpc::CreateChannel(engine->address(), grpc::InsecureChannelCredentials());

#include "support/server_process.h"

#include <memory>
#include <string>
#include <vector>

namespace ccrex::test {

// Path of the ccrex-test-engine binary: $CCREX_TEST_ENGINE_BIN, else the one this build made.
std::string test_engine_binary();

// Start the engine with `--lie mode` and `extra_args` (any ccrex-server option).
std::unique_ptr<ServerProcess> start_test_engine(const std::string& mode,
                                                 std::vector<std::string> extra_args = {});

} // namespace ccrex::test
