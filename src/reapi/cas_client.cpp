#include "reapi/cas_client.h"

#include "reapi/byte_io.h"
#include "reapi/digest.h"
#include "util/file.h"

#include <algorithm>
#include <set>

namespace ccrex::reapi {
namespace {

// Margin for the request's own fields (instance name, tags) on top of the entries.
constexpr int64_t k_request_margin = 1024;
// gRPC's default receive limit, which most servers keep.
constexpr int64_t k_grpc_default_limit = int64_t{4} << 20;

util::Error failure_error(const google::rpc::Status& status) {
  return from_grpc(grpc::Status(static_cast<grpc::StatusCode>(status.code()), status.message()));
}

// Per-entry results of one batch attempt: entries that succeeded or failed for good leave
// `pending`; the returned status is retryable if some entries may still succeed.
template <typename Response, typename OnOk>
grpc::Status settle_entries(const Response& responses,
                            std::map<std::string, v2::Digest>& pending,
                            std::vector<BlobFailure>& failures,
                            const RetryPolicy& policy,
                            OnOk&& on_ok) {
  grpc::Status retry = grpc::Status::OK;
  for (const auto& r : responses) {
    auto it = pending.find(to_string(r.digest()));
    if (it == pending.end()) {
      continue;
    }
    const auto code = static_cast<grpc::StatusCode>(r.status().code());
    if (code == grpc::StatusCode::OK) {
      if (auto st = on_ok(r); !st) {
        failures.push_back({it->second, st.error()});
      }
      pending.erase(it);
    } else if (is_retryable(policy, code)) {
      retry = grpc::Status(code, r.status().message());
    } else {
      failures.push_back({it->second, failure_error(r.status())});
      pending.erase(it);
    }
  }
  if (retry.ok() && !pending.empty()) {
    retry = grpc::Status(grpc::StatusCode::INTERNAL, "server left blobs of a batch unanswered");
  }
  return retry;
}

void fail_pending(const std::map<std::string, v2::Digest>& pending,
                  const grpc::Status& status,
                  std::vector<BlobFailure>& failures) {
  for (const auto& [key, digest] : pending) {
    failures.push_back({digest, from_grpc(status)});
  }
}

} // namespace

util::Error summarize_failures(std::string_view what, const std::vector<BlobFailure>& failures) {
  std::string message = std::to_string(failures.size()) + " blob(s) failed to " + std::string(what);
  constexpr size_t k_shown = 3;
  for (size_t i = 0; i < failures.size() && i < k_shown; ++i) {
    message +=
        (i == 0 ? ": " : "; ") + to_string(failures[i].digest) + ": " + failures[i].error.message();
  }
  return {failures.front().error.code(), message};
}

CasClient::CasClient(std::shared_ptr<v2::ContentAddressableStorage::StubInterface> cas,
                     std::shared_ptr<bytestream::ByteStream::StubInterface> bytestream,
                     std::shared_ptr<const CallSettings> settings,
                     CasOptions options)
    : m_cas(std::move(cas)),
      m_bytestream(std::move(bytestream)),
      m_settings(std::move(settings)),
      m_options(options) {}

std::unique_ptr<CasClient> CasClient::create(const std::shared_ptr<grpc::Channel>& channel,
                                             std::shared_ptr<const CallSettings> settings,
                                             CasOptions options) {
  return std::make_unique<CasClient>(v2::ContentAddressableStorage::NewStub(channel),
                                     bytestream::ByteStream::NewStub(channel),
                                     std::move(settings),
                                     options);
}

void CasClient::set_server_batch_limit(int64_t bytes) {
  m_server_batch_limit = bytes;
}

int64_t CasClient::batch_limit() const {
  int64_t limit = std::min(m_options.max_batch_bytes, k_grpc_default_limit);
  const int64_t server = m_server_batch_limit.load();
  if (server > 0) {
    limit = std::min(limit, server);
  }
  return limit - k_request_margin;
}

bool CasClient::compresses(const v2::Digest& d) const {
  return m_zstd && d.size_bytes() >= m_options.compressed_min_bytes;
}

bool CasClient::fits_batch(const v2::Digest& d) const {
  return d.size_bytes() + m_options.batch_entry_overhead <= batch_limit() && !compresses(d);
}

util::Result<std::vector<v2::Digest>>
CasClient::find_missing(const std::vector<v2::Digest>& digests) const {
  std::vector<v2::Digest> missing;
  const size_t step = std::max<size_t>(m_options.max_find_missing_digests, 1);
  std::vector<const v2::Digest*> todo;
  for (const auto& d : digests) {
    if (!is_empty_blob(d)) {
      todo.push_back(&d);
    }
  }
  for (size_t begin = 0; begin < todo.size(); begin += step) {
    v2::FindMissingBlobsRequest req;
    req.set_instance_name(m_settings->instance_name);
    for (size_t i = begin; i < std::min(begin + step, todo.size()); ++i) {
      *req.add_blob_digests() = *todo[i];
    }
    v2::FindMissingBlobsResponse resp;
    auto retrier = m_settings->unary_retrier();
    const auto st = retrier.run([&](grpc::ClientContext& ctx) { m_settings->apply(ctx); },
                                [&](grpc::ClientContext& ctx) {
                                  resp.Clear();
                                  return m_cas->FindMissingBlobs(&ctx, req, &resp);
                                });
    if (!st.ok()) {
      return from_grpc(st).with_context("FindMissingBlobs");
    }
    missing.insert(
        missing.end(), resp.missing_blob_digests().begin(), resp.missing_blob_digests().end());
  }
  return missing;
}

util::Status CasClient::upload(const std::vector<UploadBlob>& blobs,
                               std::vector<BlobFailure>* failures) const {
  // Claim the blobs no other call is sending; note the futures of those another one is.
  std::vector<const UploadBlob*> mine;
  std::vector<std::pair<const UploadBlob*, std::shared_future<bool>>> theirs;
  std::map<std::string, std::promise<bool>> promises;
  {
    const std::lock_guard lock(m_inflight_mutex);
    for (const auto& blob : blobs) {
      if (is_empty_blob(blob.digest)) {
        continue;
      }
      std::string key = to_string(blob.digest);
      if (promises.count(key) != 0) {
        continue; // twice in one call
      }
      if (auto it = m_inflight.find(key); it != m_inflight.end()) {
        theirs.emplace_back(&blob, it->second);
        continue;
      }
      std::promise<bool> promise;
      m_inflight.emplace(key, promise.get_future().share());
      promises.emplace(std::move(key), std::move(promise));
      mine.push_back(&blob);
    }
  }
  std::vector<BlobFailure> failed;
  send(mine, failed);
  std::set<std::string> bad;
  for (const auto& f : failed) {
    bad.insert(to_string(f.digest));
  }
  {
    const std::lock_guard lock(m_inflight_mutex);
    for (const auto& [key, promise] : promises) {
      m_inflight.erase(key);
    }
  }
  for (const auto* blob : mine) {
    const std::string key = to_string(blob->digest);
    const bool ok = bad.count(key) == 0;
    if (ok) {
      m_known.add(blob->digest);
    }
    promises[key].set_value(ok);
  }
  // Wait for the other calls' uploads; send ourselves what they failed to.
  std::vector<const UploadBlob*> again;
  m_waiting += theirs.size();
  for (auto& [blob, sent] : theirs) {
    if (!sent.get()) {
      again.push_back(blob);
    }
  }
  m_waiting -= theirs.size();
  if (!again.empty()) {
    const size_t before = failed.size();
    send(again, failed);
    std::set<std::string> bad_again;
    for (size_t i = before; i < failed.size(); ++i) {
      bad_again.insert(to_string(failed[i].digest));
    }
    for (const auto* blob : again) {
      if (bad_again.count(to_string(blob->digest)) == 0) {
        m_known.add(blob->digest);
      }
    }
  }
  if (failures) {
    *failures = failed;
  }
  if (!failed.empty()) {
    return summarize_failures("upload", failed);
  }
  return {};
}

void CasClient::send(const std::vector<const UploadBlob*>& blobs,
                     std::vector<BlobFailure>& failed) const {
  std::vector<const UploadBlob*> batch;
  int64_t batch_bytes = 0;
  auto flush = [&] {
    if (!batch.empty()) {
      (void)upload_batch(batch, failed);
      batch.clear();
      batch_bytes = 0;
    }
  };
  for (const auto* blob : blobs) {
    if (!fits_batch(blob->digest)) {
      if (auto st = write_stream(*blob); !st) {
        failed.push_back({blob->digest, st.error()});
      }
      continue;
    }
    const int64_t cost = blob->digest.size_bytes() + m_options.batch_entry_overhead;
    if (batch_bytes + cost > batch_limit()) {
      flush();
    }
    batch.push_back(blob);
    batch_bytes += cost;
  }
  flush();
}

util::Status CasClient::upload_batch(const std::vector<const UploadBlob*>& batch,
                                     std::vector<BlobFailure>& failures) const {
  std::map<std::string, v2::Digest> pending;
  std::map<std::string, std::string> contents;
  for (const auto* blob : batch) {
    ChunkSource source(*blob);
    std::string data;
    auto st = source.open();
    for (std::string piece; st;) {
      st = source.next(blob->digest.size_bytes() + 1, piece);
      if (piece.empty()) {
        break;
      }
      data += piece;
    }
    if (st) {
      st = source.verify();
    }
    if (!st) {
      failures.push_back({blob->digest, st.error()});
      continue;
    }
    const std::string key = to_string(blob->digest);
    pending.emplace(key, blob->digest);
    contents.emplace(key, std::move(data));
  }
  if (pending.empty()) {
    return {};
  }
  auto retrier = m_settings->unary_retrier();
  const auto st = retrier.run(
      [&](grpc::ClientContext& ctx) { m_settings->apply(ctx); },
      [&](grpc::ClientContext& ctx) {
        v2::BatchUpdateBlobsRequest req;
        req.set_instance_name(m_settings->instance_name);
        for (const auto& [key, digest] : pending) {
          auto* entry = req.add_requests();
          *entry->mutable_digest() = digest;
          entry->set_data(contents[key]);
        }
        v2::BatchUpdateBlobsResponse resp;
        auto call = m_cas->BatchUpdateBlobs(&ctx, req, &resp);
        if (!call.ok()) {
          return call;
        }
        return settle_entries(resp.responses(), pending, failures, m_settings->retry, [](auto&) {
          return util::Status{};
        });
      });
  fail_pending(pending, st, failures);
  return {};
}

util::Status CasClient::upload_missing(const BlobMap& blobs,
                                       std::vector<BlobFailure>* failures) const {
  std::vector<v2::Digest> digests;
  std::vector<UploadBlob> unknown;
  int64_t unknown_bytes = 0;
  for (const auto& [key, blob] : blobs) {
    if (!m_known.contains(blob.digest)) {
      digests.push_back(blob.digest);
      unknown.push_back(blob);
      unknown_bytes += blob.digest.size_bytes();
    }
  }
  if (digests.empty()) {
    if (failures) {
      failures->clear();
    }
    return {};
  }
  if (unknown_bytes <= m_options.blind_upload_bytes) {
    return upload(unknown, failures);
  }
  CCREX_ASSIGN_OR_RETURN(const auto missing, find_missing(digests));
  std::set<std::string> missing_keys;
  std::vector<UploadBlob> todo;
  for (const auto& d : missing) {
    auto it = blobs.find(to_string(d));
    if (it == blobs.end()) {
      return util::internal_error("server reported unknown blob " + to_string(d) + " missing");
    }
    missing_keys.insert(it->first);
    todo.push_back(it->second);
  }
  for (const auto& d : digests) {
    if (missing_keys.count(to_string(d)) == 0) {
      m_known.add(d);
    }
  }
  return upload(todo, failures);
}

bool CasClient::holds_all(const BlobMap& blobs) const {
  return std::all_of(blobs.begin(), blobs.end(), [&](const auto& entry) {
    return m_known.contains(entry.second.digest);
  });
}

bool CasClient::uploads_without_asking(const BlobMap& blobs) const {
  int64_t unknown_bytes = 0;
  bool any = false;
  for (const auto& [key, blob] : blobs) {
    if (!m_known.contains(blob.digest)) {
      any = true;
      unknown_bytes += blob.digest.size_bytes();
    }
  }
  return any && unknown_bytes <= m_options.blind_upload_bytes;
}

void CasClient::forget(const std::vector<v2::Digest>& digests) const {
  m_known.forget(digests);
}

util::Result<std::map<std::string, std::string>>
CasClient::read_blobs(const std::vector<v2::Digest>& digests,
                      std::vector<BlobFailure>* failures) const {
  std::map<std::string, std::string> out;
  std::vector<BlobFailure> failed;
  std::vector<v2::Digest> batch;
  int64_t batch_bytes = 0;
  auto flush = [&] {
    if (!batch.empty()) {
      (void)read_batch(batch, out, failed);
      batch.clear();
      batch_bytes = 0;
    }
  };
  for (const auto& d : digests) {
    const std::string key = to_string(d);
    if (is_empty_blob(d)) {
      out[key];
    } else if (!fits_batch(d)) {
      StringSink sink;
      if (auto st = read_stream(d, sink); st) {
        out[key] = std::move(sink.data());
      } else {
        failed.push_back({d, st.error()});
      }
    } else {
      const int64_t cost = d.size_bytes() + m_options.batch_entry_overhead;
      if (batch_bytes + cost > batch_limit()) {
        flush();
      }
      batch.push_back(d);
      batch_bytes += cost;
    }
  }
  flush();
  if (failures) {
    *failures = failed;
  }
  if (!failed.empty()) {
    return summarize_failures("download", failed);
  }
  return out;
}

util::Status CasClient::read_batch(const std::vector<v2::Digest>& batch,
                                   std::map<std::string, std::string>& out,
                                   std::vector<BlobFailure>& failures) const {
  std::map<std::string, v2::Digest> pending;
  for (const auto& d : batch) {
    pending.emplace(to_string(d), d);
  }
  auto retrier = m_settings->unary_retrier();
  const auto st = retrier.run(
      [&](grpc::ClientContext& ctx) { m_settings->apply(ctx); },
      [&](grpc::ClientContext& ctx) {
        v2::BatchReadBlobsRequest req;
        req.set_instance_name(m_settings->instance_name);
        for (const auto& [key, digest] : pending) {
          *req.add_digests() = digest;
        }
        v2::BatchReadBlobsResponse resp;
        auto call = m_cas->BatchReadBlobs(&ctx, req, &resp);
        if (!call.ok()) {
          return call;
        }
        return settle_entries(resp.responses(),
                              pending,
                              failures,
                              m_settings->retry,
                              [&](const v2::BatchReadBlobsResponse::Response& r) -> util::Status {
                                if (to_string(digest_of(r.data())) != to_string(r.digest())) {
                                  return util::Error(
                                      util::ErrorCode::data_loss,
                                      "BatchReadBlobs returned bytes that do not match the digest");
                                }
                                out[to_string(r.digest())] = r.data();
                                return {};
                              });
      });
  fail_pending(pending, st, failures);
  return {};
}

util::Result<std::string> CasClient::read_blob(const v2::Digest& digest) const {
  CCREX_ASSIGN_OR_RETURN(auto blobs, read_blobs({digest}));
  return std::move(blobs[to_string(digest)]);
}

util::Status
CasClient::read_blob_to_file(const v2::Digest& digest, const std::string& path, mode_t mode) const {
  if (fits_batch(digest)) {
    CCREX_ASSIGN_OR_RETURN(const auto data, read_blob(digest));
    return util::write_file_atomic(path, data, mode);
  }
  FileSink sink(path, mode);
  CCREX_TRY(sink.open());
  CCREX_TRY(read_stream(digest, sink));
  return sink.commit();
}

} // namespace ccrex::reapi
