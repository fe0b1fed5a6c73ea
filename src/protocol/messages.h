#pragma once

// Messages between the thin `ccrex` client and the `ccrexd` agent, and their wire format.
//
// A frame is a fixed 12-byte header followed by a payload:
//
//   "CCRX"  u32 version  u32 payload_size  payload[payload_size]
//
// All integers are little-endian. The payload starts with a u32 message kind; the rest
// depends on the kind and is built from u32/i32 numbers and strings (u32 length + bytes);
// a string list is a u32 count followed by that many strings. The header layout never
// changes between versions, so either side can always read the peer's version and refuse
// politely. Encoding and decoding are pure functions over buffers: the decoders accept any
// bytes at all, check every bound and return an Error for anything they don't expect
// (including trailing bytes), which makes them safe to fuzz.
//
// Thread safety: free functions without shared state.

#include "util/result.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::protocol {

// Bump whenever the payload layout of any message changes. 3: the `working` reply.
constexpr uint32_t k_protocol_version = 3;
constexpr std::string_view k_magic = "CCRX";
constexpr size_t k_header_size = 12;
// Limits enforced by the decoders (and by readers before allocating).
constexpr uint32_t k_max_payload_size = 64U * 1024U * 1024U;
constexpr uint32_t k_max_list_size = 100'000;

enum class RequestKind : uint32_t {
  // Run a compile command: argv[0] is the resolved compiler.
  compile = 1,
  // Administrative command line (`-s`, `-z`, `--show-config`, ...), answered with text.
  admin = 2,
};

struct Request {
  RequestKind kind = RequestKind::compile;
  // compile: the compiler command line; admin: the arguments given to ccrex.
  std::vector<std::string> argv;
  // The client's working directory.
  std::string cwd;
  // The client's complete environment as "NAME=value" strings.
  std::vector<std::string> env;
  // The client's umask: files the agent writes for the client get the modes a compiler
  // run by the client would give them.
  uint32_t umask = 022;

  bool operator==(const Request&) const = default;
};

enum class ReplyKind : uint32_t {
  // The agent ran the compile; the client exits with exit_code. Output already went to
  // the client's stdout/stderr descriptors.
  done = 1,
  // The client must run the compiler itself; `reason` says why (for logs only).
  run_locally = 2,
  // Answer to an admin request: the client prints `out` and `err` and exits with exit_code.
  text = 3,
  // Not an answer: the agent is still working on the request. Sent every
  // k_keepalive_interval from the moment the agent accepted the connection until the
  // answer, any number of times; carries nothing.
  working = 4,
};

// Liveness: an agent sends `working` this often while a request waits or runs, however
// long the compile or remote execution takes; a client that hears nothing at all for
// k_silence_limit takes the agent for stuck (stopped, deadlocked) and compiles itself.
constexpr std::chrono::milliseconds k_keepalive_interval{1000};
constexpr std::chrono::milliseconds k_silence_limit{5000};

struct Reply {
  ReplyKind kind = ReplyKind::done;
  // done, text.
  int32_t exit_code = 0;
  // run_locally.
  std::string reason;
  // text.
  std::string out;
  std::string err;

  bool operator==(const Reply&) const = default;
};

struct FrameHeader {
  uint32_t version = 0;
  uint32_t payload_size = 0;
};

// Return a complete frame (header + payload) for `request` / `reply` in the current
// protocol version. Lists and sizes beyond the limits above are not checked here; the
// peer's decoder rejects them.
std::string encode_request(const Request& request);
std::string encode_reply(const Reply& reply);

// Parse the 12-byte header at the start of `bytes`. Fails when fewer than 12 bytes are
// given, the magic is wrong, or payload_size exceeds k_max_payload_size. The version is
// returned as sent; comparing it with k_protocol_version is the caller's job.
util::Result<FrameHeader> decode_header(std::string_view bytes);

// Decode a complete frame. Fails on a bad header, a version other than k_protocol_version,
// a payload size that differs from what follows the header, an unknown kind, a list or
// string that overruns the buffer or the limits, and trailing bytes.
util::Result<Request> decode_request(std::string_view frame);
util::Result<Reply> decode_reply(std::string_view frame);

// Decode only the payload (the bytes after the header) of a current-version frame.
util::Result<Request> decode_request_payload(std::string_view payload);
util::Result<Reply> decode_reply_payload(std::string_view payload);

} // namespace ccrex::protocol
