// Fuzz Directory validation: parse the input as a serialized reapi::v2::Directory and run
// the server's canonical-form check on it. Besides not crashing, an accepted Directory
// must satisfy the rules the check promises (sorted, unique names across the three lists,
// one path segment each, relative symlink targets, well-formed digests), checked here
// independently, and validation must not depend on anything but the message.

#include "fuzz_check.h"
#include "reapi/digest.h"
#include "server/message_checks.h"

#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

namespace {

using namespace ccrex;
using reapi::v2::Directory;

bool is_segment(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos
         && name.find('\0') == std::string::npos;
}

template <typename Nodes>
void check_nodes(const Nodes& nodes, std::set<std::string>& names) {
  const std::string* previous = nullptr;
  for (const auto& node : nodes) {
    FUZZ_CHECK(is_segment(node.name()));
    FUZZ_CHECK(server::validate_name(node.name()).has_value());
    FUZZ_CHECK(previous == nullptr || *previous < node.name());
    FUZZ_CHECK(names.insert(node.name()).second);
    previous = &node.name();
  }
}

void check_accepted(const Directory& dir) {
  std::set<std::string> names;
  check_nodes(dir.files(), names);
  check_nodes(dir.directories(), names);
  check_nodes(dir.symlinks(), names);
  for (const auto& f : dir.files()) {
    FUZZ_CHECK(reapi::validate(f.digest()).has_value());
  }
  for (const auto& d : dir.directories()) {
    FUZZ_CHECK(reapi::validate(d.digest()).has_value());
  }
  for (const auto& s : dir.symlinks()) {
    FUZZ_CHECK(!s.target().empty() && !s.target().starts_with('/'));
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // Inputs with invalid UTF-8 in string fields make protobuf log an error per parse:
  // silence it, the parse failure is all that matters.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Directory dir;
  if (!dir.ParseFromArray(data, static_cast<int>(size))) {
    return 0;
  }
  const bool accepted = server::validate_directory(dir).has_value();
  if (accepted) {
    check_accepted(dir);
  }
  // The same message after a serialize/parse round trip gets the same verdict.
  Directory copy;
  FUZZ_CHECK(copy.ParseFromString(dir.SerializeAsString()));
  FUZZ_CHECK(server::validate_directory(copy).has_value() == accepted);
  return 0;
}
