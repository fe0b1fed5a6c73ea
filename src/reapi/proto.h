#pragma once

// One place that includes the generated REAPI headers and names their namespace, so code
// reads `reapi::v2::Digest` instead of the long qualified names.

#include <build/bazel/remote/execution/v2/remote_execution.grpc.pb.h>
#include <build/bazel/remote/execution/v2/remote_execution.pb.h>
#include <google/bytestream/bytestream.grpc.pb.h>
#include <google/longrunning/operations.pb.h>
#include <google/rpc/code.pb.h>
#include <google/rpc/error_details.pb.h>
#include <google/rpc/status.pb.h>

namespace ccrex::reapi {
namespace v2 = build::bazel::remote::execution::v2;
namespace bytestream = google::bytestream;
} // namespace ccrex::reapi
