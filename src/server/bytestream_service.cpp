#include "server/bytestream_service.h"

#include "server/grpc_util.h"
#include "util/scope_exit.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace ccrex::server {
namespace {

namespace bs = reapi::bytestream;

constexpr size_t k_read_chunk = size_t{1} << 20;

// Key of a partial upload: the resource name without trailing metadata.
std::string upload_key(const reapi::ResourceName& rn) {
  return rn.instance_name + "|" + rn.upload_uuid + "|" + reapi::to_string(rn.digest);
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
    auto rn = reapi::parse_read_resource(request->resource_name());
    if (!rn) {
      return invalid(rn.error().message());
    }
    if (auto st = m_access.check(*context, Role::read, rn->instance_name, "Read"); !st.ok()) {
      return st;
    }
    const auto lease = m_limits.open(*context);
    if (!lease) {
      return too_many_streams();
    }
    const auto& d = rn->digest;
    if (request->read_limit() < 0) {
      return invalid("negative read_limit");
    }
    if (request->read_offset() < 0 || request->read_offset() > d.size_bytes()) {
      return {grpc::StatusCode::OUT_OF_RANGE,
              "read_offset " + std::to_string(request->read_offset()) + " outside blob of "
                  + std::to_string(d.size_bytes()) + " bytes"};
    }
    if (reapi::is_empty_blob(d)) {
      return grpc::Status::OK;
    }
    auto path = m_store.path_of(reapi::from_proto(d));
    if (!path) {
      return {grpc::StatusCode::NOT_FOUND, "blob " + reapi::to_string(d) + " not in CAS"};
    }
    const int fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return {grpc::StatusCode::NOT_FOUND, "blob " + reapi::to_string(d) + " not in CAS"};
    }
    const util::ScopeExit close_fd([fd] { ::close(fd); });
    int64_t offset = request->read_offset();
    int64_t left = d.size_bytes() - offset;
    if (request->read_limit() > 0) {
      left = std::min(left, request->read_limit());
    }
    std::vector<char> buf(k_read_chunk);
    while (left > 0) {
      if (context->IsCancelled()) {
        return {grpc::StatusCode::CANCELLED, "read cancelled"};
      }
      const size_t want = static_cast<size_t>(std::min<int64_t>(left, k_read_chunk));
      const ssize_t n = ::pread(fd, buf.data(), want, offset);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return {grpc::StatusCode::DATA_LOSS, "blob " + reapi::to_string(d) + " is truncated"};
      }
      bs::ReadResponse resp;
      resp.set_data(buf.data(), static_cast<size_t>(n));
      if (!writer->Write(resp)) {
        return lease->timed_out() ? idle(m_limits)
                                  : grpc::Status{grpc::StatusCode::CANCELLED, "client went away"};
      }
      lease->touch();
      m_metrics.cas_bytes_sent(n);
      offset += n;
      left -= n;
    }
    return grpc::Status::OK;
  });
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
  auto rn = reapi::parse_write_resource(name);
  if (!rn) {
    return invalid(rn.error().message());
  }
  if (auto st = m_access.check(context, Role::write_cas, rn->instance_name, "Write"); !st.ok()) {
    return st;
  }
  const auto& d = rn->digest;
  const int64_t size = d.size_bytes();
  if (size > m_max_blob_size) {
    return invalid("blob of " + std::to_string(size) + " bytes is larger than this server accepts ("
                   + std::to_string(m_max_blob_size) + " bytes)");
  }
  if (m_store.contains(reapi::from_proto(d))) {
    response->set_committed_size(size); // already stored: finish early
    return grpc::Status::OK;
  }
  const std::string key = upload_key(*rn);
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
  for (;;) {
    if (!req.resource_name().empty() && req.resource_name() != name) {
      drop = true;
      return invalid("resource_name changed within one write stream");
    }
    if (req.write_offset() != up->committed) {
      drop = true;
      return invalid("write_offset " + std::to_string(req.write_offset()) + ", expected "
                     + std::to_string(up->committed));
    }
    if (up->committed + static_cast<int64_t>(req.data().size()) > size) {
      drop = true;
      return invalid("upload exceeds the blob size " + std::to_string(size));
    }
    if (auto st = reserve(static_cast<int64_t>(req.data().size())); !st.ok()) {
      drop = true;
      return st;
    }
    ssize_t wrote = ::pwrite(fd, req.data().data(), req.data().size(), up->committed);
    if (wrote < 0 && errno == ENOSPC) {
      // The disk is full before the size cap is reached: make room and try once more.
      m_store.free_space(std::max<int64_t>(2 * size, m_store.total_size() / 10));
      wrote = ::pwrite(fd, req.data().data(), req.data().size(), up->committed);
    }
    if (wrote != static_cast<ssize_t>(req.data().size())) {
      drop = true;
      return reapi::to_grpc(util::errno_error("write upload", errno));
    }
    {
      const std::lock_guard lock(m_mutex);
      up->committed += static_cast<int64_t>(req.data().size());
      m_partial_bytes += static_cast<int64_t>(req.data().size());
    }
    m_metrics.cas_bytes_received(static_cast<int64_t>(req.data().size()));
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
  auto st = m_store.put_temp_file(reapi::from_proto(d), up->temp_path);
  if (!st) {
    return reapi::to_grpc(st.error());
  }
  response->set_committed_size(size);
  return grpc::Status::OK;
}

grpc::Status ByteStreamService::QueryWriteStatus(grpc::ServerContext* context,
                                                 const bs::QueryWriteStatusRequest* request,
                                                 bs::QueryWriteStatusResponse* response) {
  return guarded("QueryWriteStatus", [&]() -> grpc::Status {
    if (auto st = m_access.authenticate(*context, "QueryWriteStatus"); !st.ok()) {
      return st;
    }
    auto rn = reapi::parse_write_resource(request->resource_name());
    if (!rn) {
      return invalid(rn.error().message());
    }
    if (auto st = m_access.check(*context, Role::write_cas, rn->instance_name, "QueryWriteStatus");
        !st.ok()) {
      return st;
    }
    if (m_store.contains(reapi::from_proto(rn->digest))) {
      response->set_committed_size(rn->digest.size_bytes());
      response->set_complete(true);
      return grpc::Status::OK;
    }
    const std::lock_guard lock(m_mutex);
    const auto it = m_uploads.find(upload_key(*rn));
    if (it == m_uploads.end()) {
      return {grpc::StatusCode::NOT_FOUND, "no upload " + request->resource_name()};
    }
    response->set_committed_size(it->second.committed);
    response->set_complete(false);
    return grpc::Status::OK;
  });
}

} // namespace ccrex::server
