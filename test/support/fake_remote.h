#pragma once

// FakeRemote: an in-memory RemoteExecutor for tests of code that depends on the interface
// (the agent, upload_and_execute). Blobs live in a map, the ActionCache in another; execute()
// calls a test-provided handler, and failures can be injected per method.
//
// Thread safety: every method locks one mutex, so tests may call it from several threads.

#include "reapi/digest.h"
#include "reapi/remote.h"
#include "util/file.h"

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ccrex::test {

class FakeRemote : public reapi::RemoteExecutor {
public:
  using ExecuteHandler = std::function<reapi::RemoteResult<reapi::ExecuteOutcome>(
      const reapi::v2::Digest& action, const reapi::ExecuteOptions& options)>;

  // --- Set-up and inspection ---
  void set_execute_handler(ExecuteHandler handler) {
    std::lock_guard lock(m_mutex);
    m_execute = std::move(handler);
  }
  // Make the next calls of every method fail with `failure` (until cleared with nullopt).
  void fail_with(std::optional<reapi::Failure> failure) {
    std::lock_guard lock(m_mutex);
    m_failure = std::move(failure);
  }
  void put(const std::string& data) {
    std::lock_guard lock(m_mutex);
    m_blobs[reapi::to_string(reapi::digest_of(data))] = data;
  }
  void erase(const reapi::v2::Digest& d) {
    std::lock_guard lock(m_mutex);
    m_blobs.erase(reapi::to_string(d));
  }
  bool has(const reapi::v2::Digest& d) const {
    std::lock_guard lock(m_mutex);
    return reapi::is_empty_blob(d) || m_blobs.count(reapi::to_string(d)) > 0;
  }
  // Digests ("hash/size") uploaded so far, in order, one entry per upload.
  std::vector<std::string> uploads() const {
    std::lock_guard lock(m_mutex);
    return m_uploads;
  }
  int execute_calls() const {
    std::lock_guard lock(m_mutex);
    return m_execute_calls;
  }
  // Digests ("hash/size") the caller was told to stop assuming held, in order.
  std::vector<std::string> forgotten() const {
    std::lock_guard lock(m_mutex);
    return m_forgotten;
  }

  // --- RemoteExecutor ---
  void forget(const std::vector<reapi::v2::Digest>& digests) override {
    std::lock_guard lock(m_mutex);
    for (const auto& d : digests) {
      m_forgotten.push_back(reapi::to_string(d));
    }
  }
  reapi::RemoteResult<std::optional<reapi::v2::ActionResult>>
  lookup(const reapi::v2::Digest& action, const reapi::InlineOptions&) override {
    std::lock_guard lock(m_mutex);
    if (m_failure) {
      return *m_failure;
    }
    auto it = m_action_cache.find(reapi::to_string(action));
    if (it == m_action_cache.end()) {
      return std::optional<reapi::v2::ActionResult>();
    }
    return std::optional<reapi::v2::ActionResult>(it->second);
  }

  reapi::RemoteResult<reapi::ExecuteOutcome>
  execute(const reapi::v2::Digest& action, const reapi::ExecuteOptions& options) override {
    ExecuteHandler handler;
    {
      std::lock_guard lock(m_mutex);
      ++m_execute_calls;
      if (m_failure) {
        return *m_failure;
      }
      handler = m_execute;
    }
    if (!handler) {
      return failure(reapi::FailureKind::error, "no execute handler");
    }
    return handler(action, options);
  }

  reapi::RemoteStatus upload_missing(const reapi::BlobMap& blobs) override {
    std::vector<reapi::UploadBlob> todo;
    for (const auto& [key, blob] : blobs) {
      if (!has(blob.digest)) {
        todo.push_back(blob);
      }
    }
    return upload(todo);
  }

  reapi::RemoteStatus upload(const std::vector<reapi::UploadBlob>& blobs) override {
    std::lock_guard lock(m_mutex);
    if (m_failure) {
      return *m_failure;
    }
    for (const auto& blob : blobs) {
      std::string data = blob.source.data;
      if (blob.source.is_file) {
        auto content = util::read_file(blob.source.data);
        if (!content) {
          return reapi::failure_from_error(content.error());
        }
        data = std::move(*content);
      }
      if (reapi::to_string(reapi::digest_of(data)) != reapi::to_string(blob.digest)) {
        return failure(reapi::FailureKind::error, "digest mismatch on upload");
      }
      m_uploads.push_back(reapi::to_string(blob.digest));
      m_blobs[reapi::to_string(blob.digest)] = std::move(data);
    }
    return {};
  }

  reapi::RemoteResult<std::string> read_blob(const reapi::v2::Digest& d) override {
    std::lock_guard lock(m_mutex);
    if (m_failure) {
      return *m_failure;
    }
    if (reapi::is_empty_blob(d)) {
      return std::string();
    }
    auto it = m_blobs.find(reapi::to_string(d));
    if (it == m_blobs.end()) {
      return failure(reapi::FailureKind::error, "blob not found", util::ErrorCode::not_found);
    }
    return it->second;
  }

  reapi::RemoteStatus
  read_blob_to_file(const reapi::v2::Digest& d, const std::string& path, mode_t mode) override {
    auto data = read_blob(d);
    if (!data) {
      return data.error();
    }
    if (auto st = util::write_file_atomic(path, *data, mode); !st) {
      return reapi::failure_from_error(st.error());
    }
    return {};
  }

  reapi::RemoteStatus update_action_result(const reapi::v2::Digest& action,
                                           const reapi::v2::ActionResult& result) override {
    std::lock_guard lock(m_mutex);
    if (m_failure) {
      return *m_failure;
    }
    m_action_cache[reapi::to_string(action)] = result;
    return {};
  }

  static reapi::Failure failure(reapi::FailureKind kind,
                                std::string message,
                                util::ErrorCode code = util::ErrorCode::internal) {
    reapi::Failure f;
    f.kind = kind;
    f.error = util::Error(code, std::move(message));
    return f;
  }

private:
  mutable std::mutex m_mutex;
  std::map<std::string, std::string> m_blobs;
  std::map<std::string, reapi::v2::ActionResult> m_action_cache;
  std::vector<std::string> m_forgotten;
  std::vector<std::string> m_uploads;
  std::optional<reapi::Failure> m_failure;
  ExecuteHandler m_execute;
  int m_execute_calls = 0;
};

} // namespace ccrex::test
