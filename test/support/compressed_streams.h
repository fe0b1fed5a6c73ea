#pragma once

// Helpers of the compressed-blobs tests: zstd frames built with the same library the
// server uses, and raw ByteStream calls that send exactly the messages a test chooses.

#include "reapi/compression.h"
#include "reapi/proto.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>
#include <vector>

namespace ccrex::test {

// Return `data` as one zstd frame; with `declare_size` its header states the size.
inline std::string zstd_frame(const std::string& data, bool declare_size = true) {
  reapi::ZstdCompressor zstd;
  std::string out;
  if (declare_size) {
    zstd.set_pledged_size(static_cast<int64_t>(data.size()));
    (void)zstd.compress(data, true, out);
    return out;
  }
  // Fed in pieces, the frame cannot know its size up front.
  for (size_t at = 0; at < data.size(); at += 4096) {
    (void)zstd.compress(std::string_view(data).substr(at, 4096), false, out);
  }
  (void)zstd.compress({}, true, out);
  return out;
}

// Return what `frames` decompress to (at most `limit` bytes); `ok` says whether they were
// whole, well-formed frames.
inline std::string unzstd(const std::string& frames, int64_t limit, bool* ok = nullptr) {
  reapi::ZstdDecompressor zstd;
  std::string out;
  const auto st = zstd.decompress(frames, limit, [&](std::string_view b) -> util::Status {
    out.append(b);
    return {};
  });
  if (ok != nullptr) {
    *ok = st.has_value() && zstd.at_frame_end();
  }
  return out;
}

// Send `pieces` as WriteRequests of one stream to `resource`: the first at `first_offset`,
// each next one at the previous offset plus the previous piece's size; the last carries
// finish_write when `finish`. Return the call's status; `committed` gets committed_size.
inline grpc::Status write_pieces(reapi::bytestream::ByteStream::Stub& stub,
                                 const std::string& resource,
                                 const std::vector<std::string>& pieces,
                                 int64_t first_offset,
                                 int64_t* committed,
                                 bool finish = true) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  reapi::bytestream::WriteResponse resp;
  auto writer = stub.Write(&ctx, &resp);
  int64_t offset = first_offset;
  for (size_t i = 0; i < pieces.size(); ++i) {
    reapi::bytestream::WriteRequest req;
    if (i == 0) {
      req.set_resource_name(resource);
    }
    req.set_write_offset(offset);
    req.set_data(pieces[i]);
    req.set_finish_write(finish && i + 1 == pieces.size());
    if (!writer->Write(req)) {
      break;
    }
    offset += static_cast<int64_t>(pieces[i].size());
  }
  writer->WritesDone();
  const auto st = writer->Finish();
  if (committed != nullptr) {
    *committed = resp.committed_size();
  }
  return st;
}

// Split `data` into pieces of `size` bytes.
inline std::vector<std::string> split_pieces(const std::string& data, size_t size) {
  std::vector<std::string> out;
  for (size_t at = 0; at < data.size(); at += size) {
    out.push_back(data.substr(at, size));
  }
  if (out.empty()) {
    out.emplace_back();
  }
  return out;
}

// Read `resource` from `offset` with `limit`; return the bytes as sent (still compressed
// for a compressed name) and the status in `status`.
inline std::string read_raw(reapi::bytestream::ByteStream::Stub& stub,
                            const std::string& resource,
                            int64_t offset,
                            int64_t limit,
                            grpc::Status* status) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  reapi::bytestream::ReadRequest req;
  req.set_resource_name(resource);
  req.set_read_offset(offset);
  req.set_read_limit(limit);
  auto reader = stub.Read(&ctx, req);
  std::string out;
  reapi::bytestream::ReadResponse resp;
  while (reader->Read(&resp)) {
    out += resp.data();
  }
  *status = reader->Finish();
  return out;
}

// Text that compresses the way source code does (repeated words, varying numbers).
inline std::string source_like_text(size_t size) {
  std::string out;
  out.reserve(size + 100);
  for (size_t i = 0; out.size() < size; ++i) {
    out += "static inline int function_" + std::to_string(i % 977) + "(int value) { return value * "
           + std::to_string(i * 7919 % 10007) + "; }\n";
  }
  out.resize(size);
  return out;
}

} // namespace ccrex::test
