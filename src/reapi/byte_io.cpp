#include "reapi/byte_io.h"

#include "reapi/digest.h"
#include "util/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace ccrex::reapi {

ChunkSource::ChunkSource(const UploadBlob& blob) : m_blob(blob) {}

ChunkSource::~ChunkSource() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

util::Status ChunkSource::open() {
  if (!m_blob.source.is_file) {
    return {};
  }
  m_fd = ::open(m_blob.source.data.c_str(), O_RDONLY | O_CLOEXEC);
  if (m_fd < 0) {
    return util::errno_error("opening " + m_blob.source.data, errno);
  }
  return {};
}

util::Status ChunkSource::next(int64_t max, std::string& out) {
  out.clear();
  if (!m_blob.source.is_file) {
    const auto& data = m_blob.source.data;
    const auto begin = static_cast<size_t>(std::min<int64_t>(m_offset, data.size()));
    out.assign(data, begin, static_cast<size_t>(max));
  } else {
    out.resize(static_cast<size_t>(max));
    ssize_t n = 0;
    do {
      n = ::read(m_fd, out.data(), out.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      return util::errno_error("reading " + m_blob.source.data, errno);
    }
    out.resize(static_cast<size_t>(n));
  }
  m_offset += static_cast<int64_t>(out.size());
  m_hasher.update(out);
  return {};
}

util::Status ChunkSource::verify() {
  const std::string hash = m_hasher.finish();
  if (m_offset != m_blob.digest.size_bytes() || hash != m_blob.digest.hash()) {
    const std::string where = m_blob.source.is_file ? m_blob.source.data : "in-memory blob";
    return util::Error(util::ErrorCode::failed_precondition,
                       where + " no longer matches digest " + to_string(m_blob.digest) + " (read "
                           + std::to_string(m_offset) + " bytes hashing to " + hash + ")");
  }
  return {};
}

FileSink::FileSink(std::string path, mode_t mode)
    : m_path(std::move(path)),
      m_temp(util::temp_sibling(m_path)),
      m_mode(mode) {}

FileSink::~FileSink() {
  if (m_fd >= 0) {
    ::close(m_fd);
    ::unlink(m_temp.c_str());
  }
}

util::Status FileSink::open() {
  m_fd = ::open(m_temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (m_fd < 0) {
    return util::errno_error("creating " + m_temp, errno);
  }
  return {};
}

util::Status FileSink::append(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(m_fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return util::errno_error("writing " + m_temp, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

util::Status FileSink::commit() {
  if (::fchmod(m_fd, m_mode) != 0) {
    return util::errno_error("chmod " + m_temp, errno);
  }
  const int fd = m_fd;
  m_fd = -1;
  if (::close(fd) != 0) {
    ::unlink(m_temp.c_str());
    return util::errno_error("closing " + m_temp, errno);
  }
  if (::rename(m_temp.c_str(), m_path.c_str()) != 0) {
    const int err = errno;
    ::unlink(m_temp.c_str());
    return util::errno_error("renaming to " + m_path, err);
  }
  return {};
}

} // namespace ccrex::reapi
