#include "agent/journal.h"

#include "util/file.h"
#include "util/strings.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <ctime>
#include <deque>

namespace ccrex::agent {
namespace {

std::string now_text() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%d %H:%M:%S", &tm);
  return buf.data();
}

// The source named by a journal line ("<date> <time> <source>: ...").
std::string_view source_of(std::string_view line) {
  size_t start = line.find(' ');
  start = start == std::string_view::npos ? 0 : line.find(' ', start + 1);
  if (start == std::string_view::npos) {
    return {};
  }
  const size_t end = line.find(": ", start + 1);
  return line.substr(start + 1, end == std::string_view::npos ? 0 : end - start - 1);
}

} // namespace

Journal::Journal(std::string path, int64_t max_bytes)
    : m_path(std::move(path)),
      m_max_bytes(max_bytes) {}

void Journal::append(const std::string& source, const std::string& line) {
  std::string text = now_text() + " " + source + ": " + line;
  for (char& c : text) {
    if (c == '\n') {
      c = ' '; // one compile, one line
    }
  }
  text += '\n';
  const std::lock_guard lock(m_mutex);
  struct stat st {};
  if (::stat(m_path.c_str(), &st) == 0 && st.st_size >= m_max_bytes) {
    (void)::rename(m_path.c_str(), (m_path + ".1").c_str());
  }
  const int fd = ::open(m_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    return;
  }
  (void)!::write(fd, text.data(), text.size());
  ::close(fd);
}

std::vector<std::string> Journal::read(const std::string& filter, size_t max_lines) const {
  std::deque<std::string> kept;
  for (const std::string& file : {m_path + ".1", m_path}) {
    auto text = util::read_file(file);
    if (!text) {
      continue;
    }
    for (const auto line : util::split(*text, '\n', true)) {
      if (!filter.empty() && source_of(line).find(filter) == std::string_view::npos) {
        continue;
      }
      kept.emplace_back(line);
      if (kept.size() > max_lines) {
        kept.pop_front();
      }
    }
  }
  return {kept.begin(), kept.end()};
}

} // namespace ccrex::agent
