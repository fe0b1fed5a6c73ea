#pragma once

// Helpers for the Execution conformance tests: an in-memory input tree that serializes to
// canonical Directory messages, Command/Action builders that upload their blobs, and a
// driver that reads a whole Execute or WaitExecution stream.

#include "reapi/digest.h"
#include "reapi/proto.h"
#include "support/reapi_fixture.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ccrex::test {

namespace v2 = reapi::v2;

// A directory tree built from paths; blobs() holds every Directory and file blob by digest.
class InputTree {
public:
  void file(const std::string& path, const std::string& content, bool executable = false) {
    auto [dir, name] = locate(path);
    dir->files[name] = {content, executable};
  }
  void dir(const std::string& path) {
    auto [parent, name] = locate(path);
    parent->dirs[name];
  }
  void symlink(const std::string& path, const std::string& target) {
    auto [dir, name] = locate(path);
    dir->links[name] = target;
  }
  // Serialize; returns the root digest and fills `blobs` (hash/size -> bytes).
  v2::Digest build(std::map<std::string, std::string>& blobs) const { return build(m_root, blobs); }

private:
  struct Node {
    std::map<std::string, std::pair<std::string, bool>> files;
    std::map<std::string, Node> dirs;
    std::map<std::string, std::string> links;
  };

  std::pair<Node*, std::string> locate(const std::string& path) {
    Node* node = &m_root;
    size_t start = 0;
    for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', start)) {
      node = &node->dirs[path.substr(start, slash - start)];
      start = slash + 1;
    }
    return {node, path.substr(start)};
  }

  static v2::Digest build(const Node& node, std::map<std::string, std::string>& blobs) {
    v2::Directory d;
    for (const auto& [name, file] : node.files) {
      auto* f = d.add_files();
      f->set_name(name);
      *f->mutable_digest() = reapi::digest_of(file.first);
      f->set_is_executable(file.second);
      blobs[reapi::to_string(f->digest())] = file.first;
    }
    for (const auto& [name, child] : node.dirs) {
      auto* n = d.add_directories();
      n->set_name(name);
      *n->mutable_digest() = build(child, blobs);
    }
    for (const auto& [name, target] : node.links) {
      auto* s = d.add_symlinks();
      s->set_name(name);
      s->set_target(target);
    }
    const std::string bytes = d.SerializeAsString();
    blobs[reapi::to_string(reapi::digest_of(bytes))] = bytes;
    return reapi::digest_of(bytes);
  }

  Node m_root;
};

// Everything an Execute stream produced.
struct ExecOutcome {
  grpc::Status status;
  std::vector<google::longrunning::Operation> operations;
  v2::ExecuteResponse response; // from the final operation, if any
  bool done = false;
};

inline ExecOutcome
read_stream(grpc::ClientReaderInterface<google::longrunning::Operation>& reader) {
  ExecOutcome out;
  google::longrunning::Operation op;
  while (reader.Read(&op)) {
    out.operations.push_back(op);
    if (op.done()) {
      out.done = true;
      EXPECT_FALSE(op.has_error()) << "Operation.error must never be set";
      EXPECT_TRUE(op.response().UnpackTo(&out.response));
    }
  }
  out.status = reader.Finish();
  return out;
}

class ExecutionFixture : public ReapiFixture {
protected:
  // Upload every blob in `blobs` except the empty one (clients never upload it).
  void upload(const std::map<std::string, std::string>& blobs) {
    for (const auto& [key, data] : blobs) {
      if (!data.empty()) {
        put(data);
      }
    }
  }

  // Build a Command running `args` with PATH=/usr/bin:/bin.
  static v2::Command command(std::vector<std::string> args,
                             std::vector<std::string> output_paths = {}) {
    v2::Command c;
    for (auto& a : args) {
      c.add_arguments(std::move(a));
    }
    auto* env = c.add_environment_variables();
    env->set_name("PATH");
    env->set_value("/usr/bin:/bin");
    for (auto& p : output_paths) {
      c.add_output_paths(std::move(p));
    }
    return c;
  }

  // Upload the tree, the Command and an Action; return the Action digest.
  v2::Digest action(const v2::Command& cmd,
                    const InputTree& tree = {},
                    const std::function<void(v2::Action&)>& tweak = {}) {
    std::map<std::string, std::string> blobs;
    v2::Action a;
    *a.mutable_input_root_digest() = tree.build(blobs);
    upload(blobs);
    *a.mutable_command_digest() = put_message(cmd);
    if (tweak) {
      tweak(a);
    }
    return put_message(a);
  }

  ExecOutcome execute(const v2::Digest& action_digest, bool skip_cache_lookup = false) {
    v2::ExecuteRequest req;
    *req.mutable_action_digest() = action_digest;
    req.set_skip_cache_lookup(skip_cache_lookup);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto reader = exec->Execute(&ctx, req);
    return read_stream(*reader);
  }

  // Execute and assert that the stream ended OK with a final ExecuteResponse.
  v2::ExecuteResponse run_ok(const v2::Digest& action_digest, bool skip_cache_lookup = false) {
    auto out = execute(action_digest, skip_cache_lookup);
    EXPECT_TRUE(out.status.ok()) << out.status.error_code() << " " << out.status.error_message();
    EXPECT_TRUE(out.done);
    return out.response;
  }

  std::string blob(const v2::Digest& d) {
    std::string data;
    EXPECT_EQ(get(d, &data), 0) << "blob " << reapi::to_string(d) << " not readable";
    return data;
  }

  // Return the GetActionResult status code for `action_digest`.
  grpc::StatusCode ac_lookup(const v2::Digest& action_digest, v2::ActionResult* out = nullptr) {
    v2::GetActionResultRequest req;
    *req.mutable_action_digest() = action_digest;
    v2::ActionResult result;
    grpc::ClientContext ctx;
    const auto st = ac->GetActionResult(&ctx, req, &result);
    if (out != nullptr) {
      *out = result;
    }
    return st.error_code();
  }

  // Parse the PreconditionFailure of a call status; return the violation subjects.
  static std::vector<std::string> missing_subjects(const grpc::Status& st) {
    google::rpc::Status details;
    EXPECT_TRUE(details.ParseFromString(st.error_details()));
    EXPECT_EQ(details.code(), static_cast<int>(st.error_code()));
    std::vector<std::string> subjects;
    for (const auto& any : details.details()) {
      google::rpc::PreconditionFailure failure;
      if (any.UnpackTo(&failure)) {
        for (const auto& v : failure.violations()) {
          EXPECT_EQ(v.type(), "MISSING");
          subjects.push_back(v.subject());
        }
      }
    }
    return subjects;
  }
};

} // namespace ccrex::test
