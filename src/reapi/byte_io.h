#pragma once

// Byte sources and sinks used by the CAS client's transfers: a blob's bytes come from memory
// or a file and are hashed as they are read, downloads go to memory or to a temporary file
// that is renamed into place only after the digest matched.
//
// Thread safety: each object is used by one thread.

#include "reapi/blob.h"
#include "util/result.h"
#include "util/sha256.h"

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace ccrex::reapi {

// Reads a blob's bytes in chunks and checks at the end that they match the digest.
class ChunkSource {
public:
  ChunkSource(const UploadBlob& blob);
  ~ChunkSource();
  ChunkSource(const ChunkSource&) = delete;
  ChunkSource& operator=(const ChunkSource&) = delete;

  // Open the file (no-op for memory sources).
  util::Status open();
  // Return the next at most `max` bytes in `out` (empty at the end).
  util::Status next(int64_t max, std::string& out);
  // Return OK if everything read so far is exactly the blob's digest.
  util::Status verify();

private:
  const UploadBlob& m_blob;
  int m_fd = -1;
  int64_t m_offset = 0;
  util::Sha256 m_hasher;
};

// Receives downloaded bytes.
class ByteSink {
public:
  virtual ~ByteSink() = default;
  virtual util::Status append(std::string_view data) = 0;
};

class StringSink final : public ByteSink {
public:
  util::Status append(std::string_view data) override {
    m_data.append(data);
    return {};
  }
  std::string& data() { return m_data; }

private:
  std::string m_data;
};

// Writes to a temporary sibling of `path`; commit() renames it into place, otherwise the
// destructor removes it.
class FileSink final : public ByteSink {
public:
  FileSink(std::string path, mode_t mode);
  ~FileSink() override;
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  util::Status open();
  util::Status append(std::string_view data) override;
  util::Status commit();

private:
  std::string m_path;
  std::string m_temp;
  mode_t m_mode;
  int m_fd = -1;
};

} // namespace ccrex::reapi
