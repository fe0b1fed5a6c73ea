#include "server/bytestream_service.h"

#include "reapi/compression.h"
#include "server/grpc_util.h"
#include "util/scope_exit.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <vector>

namespace ccrex::server {
namespace {

namespace bs = reapi::bytestream;

constexpr size_t k_read_chunk = size_t{1} << 20;

// Key of a partial upload: the resource name without trailing metadata. A compressed and
// a plain upload under one id are two uploads.
std::string upload_key(const reapi::BlobResource& res) {
  const auto& rn = res.name;
  return rn.instance_name + "|" + rn.upload_uuid + "|" + reapi::to_string(rn.digest) + "|"
         + std::string(reapi::compressor_name(res.compressor));
}

grpc::Status invalid(const std::string& msg) {
  return {grpc::StatusCode::INVALID_ARGUMENT, msg};
}

grpc::Status too_many_streams() {
  return {grpc::StatusCode::RESOURCE_EXHAUSTED,
          "this client has the most ByteStream streams open that the server allows"};
}

grpc::Status idle(const StreamLimits& limits) {
  return {grpc::StatusCode::DEADLINE_EXCEEDED,
          "no message on the stream for " + std::to_string(limits.idle_timeout().count() / 1000)
              + " s"};
}

// Refuse a compressor this server does not serve.
grpc::Status check_compressor(reapi::Compressor c, bool compression) {
  if (c == reapi::Compressor::identity || (c == reapi::Compressor::zstd && compression)) {
    return grpc::Status::OK;
  }
  return invalid("compressor '" + std::string(reapi::compressor_name(c))
                 + "' is not supported by this server (see its capabilities)");
}

} // namespace

ByteStreamService::ByteStreamService(BlobStore& store,
                                     const Access& access,
                                     const Config& config,
                                     Metrics& metrics)
    : m_store(store),
      m_access(access),
      m_metrics(metrics),
      m_max_blob_size(std::min(config.max_blob_size, store.max_size())),
      m_upload_expiry(config.partial_upload_expiry),
      m_compression(offers_compressed_blobs(config)),
      m_limits(config.stream_idle_timeout, config.max_streams_per_client) {}

grpc::Status ByteStreamService::reserve(int64_t bytes) {
  int64_t partial = 0;
  {
    const std::lock_guard lock(m_mutex);
    partial = m_partial_bytes;
  }
  if (partial + bytes > m_store.max_size()) {
    return {grpc::StatusCode::RESOURCE_EXHAUSTED,
            "unfinished uploads would exceed the store's size cap; finish or retry later"};
  }
  const int64_t over = m_store.total_size() + partial + bytes - m_store.max_size();
  if (over > 0) {
    m_store.free_space(over);
  }
  return grpc::Status::OK;
}

ByteStreamService::~ByteStreamService() {
  for (const auto& [key, upload] : m_uploads) {
    ::unlink(upload.temp_path.c_str());
  }
}

grpc::Status ByteStreamService::Read(grpc::ServerContext* context,
                                     const bs::ReadRequest* request,
                                     grpc::ServerWriter<bs::ReadResponse>* writer) {
  return guarded("Read", [&]() -> grpc::Status {
    if (auto st = m_access.authenticate(*context, "Read"); !st.ok()) {
      return st;
    }
    auto res = reapi::parse_blob_read_resource(request->resource_name());
    if (!res) {
      return invalid(res.error().message());
    }
    const reapi::ResourceName* rn = &res->name;
    if (auto st = m_access.check(*context, Role::read, rn->instance_name, "Read"); !st.ok()) {
      return st;
    }
    const auto lease = m_limits.open(*context);
    if (!lease) {
      return too_many_streams();
    }
    const auto& d = rn->digest;
    if (auto st = check_compressor(res->compressor, m_compression); !st.ok()) {
      return st;
    }
    const bool compressed = res->compressor != reapi::Compressor::identity;
    if (request->read_limit() < 0) {
      return invalid("negative read_limit");
    }
    if (compressed && request->read_limit() != 0) {
      return invalid("read_limit must be 0 for a compressed read");
    }
    if (request->read_offset() < 0 || request->read_offset() > d.size_bytes()) {
      return {grpc::StatusCode::OUT_OF_RANGE,
              "read_offset " + std::to_string(request->read_offset()) + " outside blob of "
                  + std::to_string(d.size_bytes()) + " bytes"};
    }
    // The store's reader yields the blob's own bytes, decompressed if it is kept compressed.
    std::unique_ptr<BlobReader> reader;
    if (!reapi::is_empty_blob(d)) {
      auto opened = m_store.open_reader(reapi::from_proto(d));
      if (!opened || !(*opened)->skip(request->read_offset())) {
        return {grpc::StatusCode::NOT_FOUND, "blob " + reapi::to_string(d) + " not in CAS"};
      }
      reader = std::move(*opened);
    }
    int64_t left = d.size_bytes() - request->read_offset();
    if (request->read_limit() > 0) {
      left = std::min(left, request->read_limit());
    }
    return send_blob(
        *context, writer, *lease, {reader.get(), d, request->read_offset(), left, compressed});
  });
}

grpc::Status ByteStreamService::send_blob(const grpc::ServerContext& context,
                                          grpc::ServerWriter<bs::ReadResponse>* writer,
                                          StreamLimits::Lease& lease,
                                          const ReadPlan& plan) {
  std::optional<reapi::ZstdCompressor> zstd;
  if (plan.compressed) {
    zstd.emplace();
    zstd->set_pledged_size(plan.length);
  }
  int64_t wire = 0;
  int64_t offset = plan.offset;
  const util::ScopeExit count([&] {
    if (plan.compressed) {
      m_metrics.compressed_transfer(false, wire, offset - plan.offset);
    }
  });
  const auto send = [&](std::string_view bytes) -> grpc::Status {
    if (bytes.empty()) {
      return grpc::Status::OK;
    }
    bs::ReadResponse resp;
    resp.set_data(bytes.data(), bytes.size());
    if (!writer->Write(resp)) {
      return lease.timed_out() ? idle(m_limits)
                               : grpc::Status{grpc::StatusCode::CANCELLED, "client went away"};
    }
    lease.touch();
    m_metrics.cas_bytes_sent(static_cast<int64_t>(bytes.size()));
    wire += static_cast<int64_t>(bytes.size());
    return grpc::Status::OK;
  };
  std::vector<char> buf(k_read_chunk);
  std::string packed;
  int64_t left = plan.length;
  // A compressed read always sends a whole frame, even of nothing.
  bool pending_frame = plan.compressed;
  while (left > 0 || pending_frame) {
    if (context.IsCancelled()) {
      return {grpc::StatusCode::CANCELLED, "read cancelled"};
    }
    const size_t want = static_cast<size_t>(std::min<int64_t>(left, k_read_chunk));
    ssize_t n = 0;
    if (want > 0) {
      auto got = plan.reader->read(buf.data(), want);
      n = got ? static_cast<ssize_t>(*got) : -1;
      if (n <= 0) {
        return {grpc::StatusCode::DATA_LOSS,
                "blob " + reapi::to_string(plan.digest) + " is damaged"};
      }
    }
    const std::string_view chunk(buf.data(), static_cast<size_t>(n));
    offset += n;
    left -= n;
    if (zstd) {
      packed.clear();
      if (auto st = zstd->compress(chunk, left == 0, packed); !st) {
        return reapi::to_grpc(st.error());
      }
      pending_frame = left > 0;
      if (auto st = send(packed); !st.ok()) {
        return st;
      }
    } else if (auto st = send(chunk); !st.ok()) {
      return st;
    }
  }
  return grpc::Status::OK;
}

ByteStreamService::Upload* ByteStreamService::claim(const std::string& key) {
  const std::lock_guard lock(m_mutex);
  const auto now = std::chrono::steady_clock::now();
  for (auto it = m_uploads.begin(); it != m_uploads.end();) {
    if (!it->second.busy && now - it->second.last_used > m_upload_expiry) {
      ::unlink(it->second.temp_path.c_str());
      m_partial_bytes -= it->second.committed;
      it = m_uploads.erase(it);
    } else {
      ++it;
    }
  }
  auto [it, inserted] = m_uploads.try_emplace(key);
  if (inserted) {
    it->second.temp_path = m_store.new_temp_path();
  } else if (it->second.busy) {
    return nullptr;
  }
  it->second.busy = true;
  it->second.last_used = now;
  return &it->second;
}

void ByteStreamService::release(const std::string& key, bool drop) {
  const std::lock_guard lock(m_mutex);
  const auto it = m_uploads.find(key);
  if (it == m_uploads.end()) {
    return;
  }
  if (drop) {
    ::unlink(it->second.temp_path.c_str());
    m_partial_bytes -= it->second.committed;
    m_uploads.erase(it);
  } else {
    it->second.busy = false;
    it->second.last_used = std::chrono::steady_clock::now();
  }
}

grpc::Status ByteStreamService::Write(grpc::ServerContext* context,
                                      grpc::ServerReader<bs::WriteRequest>* reader,
                                      bs::WriteResponse* response) {
  return guarded("Write", [&]() -> grpc::Status {
    // Nothing is read from a caller that is not known.
    if (auto st = m_access.authenticate(*context, "Write"); !st.ok()) {
      return st;
    }
    const auto lease = m_limits.open(*context);
    if (!lease) {
      return too_many_streams();
    }
    bs::WriteRequest first;
    if (!reader->Read(&first)) {
      return lease->timed_out() ? idle(m_limits) : invalid("empty write stream");
    }
    lease->touch();
    return write_stream(*context, reader, first, response, *lease);
  });
}

grpc::Status ByteStreamService::write_stream(const grpc::ServerContext& context,
                                             grpc::ServerReader<bs::WriteRequest>* reader,
                                             bs::WriteRequest& req,
                                             bs::WriteResponse* response,
                                             StreamLimits::Lease& lease) {
  if (req.resource_name().empty()) {
    return invalid("the first WriteRequest must carry resource_name");
  }
  const std::string name = req.resource_name();
  auto res = reapi::parse_blob_write_resource(name);
  if (!res) {
    return invalid(res.error().message());
  }
  const reapi::ResourceName* rn = &res->name;
  if (auto st = m_access.check(context, Role::write_cas, rn->instance_name, "Write"); !st.ok()) {
    return st;
  }
  if (auto st = check_compressor(res->compressor, m_compression); !st.ok()) {
    return st;
  }
  const bool compressed = res->compressor != reapi::Compressor::identity;
  const auto& d = rn->digest;
  const int64_t size = d.size_bytes();
  if (size > m_max_blob_size) {
    return invalid("blob of " + std::to_string(size) + " bytes is larger than this server accepts ("
                   + std::to_string(m_max_blob_size) + " bytes)");
  }
  if (m_store.contains(reapi::from_proto(d))) {
    // Already stored: finish early. A compressed upload says so with -1 (the spec's
    // answer, since no compressed offset means "all of it").
    response->set_committed_size(compressed ? -1 : size);
    return grpc::Status::OK;
  }
  const std::string key = upload_key(*res);
  Upload* up = claim(key);
  if (up == nullptr) {
    return {grpc::StatusCode::ABORTED, "another stream is writing " + name};
  }
  bool drop = false;
  const util::ScopeExit release_upload([&] { release(key, drop); });
  if (req.write_offset() == 0 && up->committed > 0) {
    const std::lock_guard lock(m_mutex);
    m_partial_bytes -= up->committed;
    up->committed = 0; // the client restarts from scratch
  }
  // The first write_offset is in blob bytes for both kinds of upload (a compressed upload
  // resumes with a new frame of the rest of the blob).
  if (req.write_offset() != up->committed) {
    return invalid("write_offset " + std::to_string(req.write_offset())
                   + " does not match the committed size " + std::to_string(up->committed));
  }
  const int fd = ::open(up->temp_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || ::ftruncate(fd, up->committed) != 0) {
    const int err = errno;
    if (fd >= 0) {
      ::close(fd);
    }
    drop = true;
    return reapi::to_grpc(m_store.note_write(util::errno_error("upload temp file", err)).error());
  }
  util::ScopeExit close_fd([fd] { ::close(fd); });
  UploadStream stream{fd, up, size, req.write_offset(), req.write_offset(), std::nullopt};
  if (compressed) {
    stream.zstd.emplace();
  }
  const util::ScopeExit count([&] {
    if (compressed) {
      m_metrics.compressed_transfer(
          true, stream.wire_offset - stream.start, up->committed - stream.start);
    }
  });
  for (;;) {
    if (!req.resource_name().empty() && req.resource_name() != name) {
      drop = true;
      return invalid("resource_name changed within one write stream");
    }
    if (auto st = take(stream, req); !st.ok()) {
      drop = true;
      return st;
    }
    if (req.finish_write()) {
      break;
    }
    if (!reader->Read(&req)) {
      if (lease.timed_out()) {
        return idle(m_limits);
      }
      return invalid("write stream ended before finish_write; committed "
                     + std::to_string(up->committed) + " bytes");
    }
    lease.touch();
  }
  close_fd.dismiss();
  ::close(fd);
  drop = true; // consumed by put_temp_file whatever happens
  if (compressed && !stream.zstd->at_frame_end()) {
    return invalid("the compressed upload ends inside a zstd frame");
  }
  auto st = m_store.put_temp_file(reapi::from_proto(d), up->temp_path);
  if (!st) {
    return reapi::to_grpc(st.error());
  }
  // The offset the next message would have had: the blob's size for a plain upload, the
  // first offset plus the compressed bytes for a compressed one.
  response->set_committed_size(stream.wire_offset);
  return grpc::Status::OK;
}

grpc::Status ByteStreamService::take(UploadStream& stream, const bs::WriteRequest& req) {
  const auto& data = req.data();
  const auto length = static_cast<int64_t>(data.size());
  if (req.write_offset() != stream.wire_offset) {
    return invalid("write_offset " + std::to_string(req.write_offset()) + ", expected "
                   + std::to_string(stream.wire_offset));
  }
  if (!stream.zstd) {
    if (stream.up->committed + length > stream.size) {
      return invalid("upload exceeds the blob size " + std::to_string(stream.size));
    }
  } else if (stream.wire_offset - stream.start + length
             > reapi::zstd_bound(stream.size - stream.start)) {
    // zstd never needs this much for the rest of the blob: a stream of padding or skippable
    // frames that would never produce it.
    return invalid("more compressed data than a blob of " + std::to_string(stream.size)
                   + " bytes can take");
  }
  m_metrics.cas_bytes_received(length);
  stream.wire_offset += length;
  if (!stream.zstd) {
    return store_bytes(stream, data);
  }
  // Decompressed output goes to the file as it comes, in pieces, and never past the
  // declared size: a bomb is stopped one byte after it, before that byte is written.
  grpc::Status sink_status;
  auto st = stream.zstd->decompress(
      data, stream.size - stream.start, [&](std::string_view bytes) -> util::Status {
        sink_status = store_bytes(stream, bytes);
        if (!sink_status.ok()) {
          return util::io_error(sink_status.error_message());
        }
        return {};
      });
  if (!sink_status.ok()) {
    return sink_status;
  }
  if (!st) {
    return invalid(st.error().message());
  }
  return grpc::Status::OK;
}

grpc::Status ByteStreamService::store_bytes(UploadStream& stream, std::string_view bytes) {
  const auto length = static_cast<int64_t>(bytes.size());
  if (auto st = reserve(length); !st.ok()) {
    return st;
  }
  Upload* up = stream.up;
  ssize_t wrote = ::pwrite(stream.fd, bytes.data(), bytes.size(), up->committed);
  if (wrote < 0 && errno == ENOSPC) {
    // The disk is full before the size cap is reached: make room and try once more.
    m_store.free_space(std::max<int64_t>(2 * stream.size, m_store.total_size() / 10));
    wrote = ::pwrite(stream.fd, bytes.data(), bytes.size(), up->committed);
  }
  if (wrote != static_cast<ssize_t>(bytes.size())) {
    return reapi::to_grpc(util::errno_error("write upload", errno));
  }
  const std::lock_guard lock(m_mutex);
  up->committed += length;
  m_partial_bytes += length;
  return grpc::Status::OK;
}

grpc::Status ByteStreamService::QueryWriteStatus(grpc::ServerContext* context,
                                                 const bs::QueryWriteStatusRequest* request,
                                                 bs::QueryWriteStatusResponse* response) {
  return guarded("QueryWriteStatus", [&]() -> grpc::Status {
    if (auto st = m_access.authenticate(*context, "QueryWriteStatus"); !st.ok()) {
      return st;
    }
    auto res = reapi::parse_blob_write_resource(request->resource_name());
    if (!res) {
      return invalid(res.error().message());
    }
    const reapi::ResourceName* rn = &res->name;
    if (auto st = m_access.check(*context, Role::write_cas, rn->instance_name, "QueryWriteStatus");
        !st.ok()) {
      return st;
    }
    if (auto st = check_compressor(res->compressor, m_compression); !st.ok()) {
      return st;
    }
    if (m_store.contains(reapi::from_proto(rn->digest))) {
      response->set_committed_size(rn->digest.size_bytes());
      response->set_complete(true);
      return grpc::Status::OK;
    }
    const std::lock_guard lock(m_mutex);
    const auto it = m_uploads.find(upload_key(*res));
    if (it == m_uploads.end()) {
      return {grpc::StatusCode::NOT_FOUND, "no upload " + request->resource_name()};
    }
    response->set_committed_size(it->second.committed);
    response->set_complete(false);
    return grpc::Status::OK;
  });
}

} // namespace ccrex::server
