#pragma once

// Process-wide logging. Messages are built only when their level is enabled, each line is
// written with a single write(2) (so concurrent threads never interleave within a line),
// and nothing is ever written to a compiler's stdout or stderr unless the binary asked for
// stderr explicitly (ccrex-server does; the wrapper logs only to a file).
//
//   CCREX_LOG_INFO("stored " << digest << " (" << size << " bytes)");

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

namespace ccrex::util::logging {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

// Send log lines to stderr from now on, at `level` and above.
void log_to_stderr(Level level);
// Append log lines to `path` (created 0600 if missing). Return false if it cannot be opened;
// logging then stays off.
// Past `max_bytes` the file is renamed to `<path>.1` (replacing an older one) and logging
// goes on in a new `path` (0: never).
bool log_to_file(const std::string& path, Level level, int64_t max_bytes = int64_t{10} << 20);
// Stop logging entirely (the default state).
void disable();

// Return whether a message at `level` would be written.
bool enabled(Level level);

// Parse "error", "warn", "info" or "debug". Return false for anything else.
bool parse_level(std::string_view text, Level& out);

// Write one line: timestamp, level, thread id, `message`. Use the macros instead.
void write(Level level, std::string_view message);

} // namespace ccrex::util::logging

#define CCREX_LOG_AT(level, expr)                                                                  \
  do {                                                                                             \
    if (::ccrex::util::logging::enabled(level)) {                                                  \
      std::ostringstream ccrex_log_stream_;                                                        \
      ccrex_log_stream_ << expr;                                                                   \
      ::ccrex::util::logging::write(level, ccrex_log_stream_.str());                               \
    }                                                                                              \
  } while (false)

#define CCREX_LOG_ERROR(expr) CCREX_LOG_AT(::ccrex::util::logging::Level::error, expr)
#define CCREX_LOG_WARN(expr) CCREX_LOG_AT(::ccrex::util::logging::Level::warn, expr)
#define CCREX_LOG_INFO(expr) CCREX_LOG_AT(::ccrex::util::logging::Level::info, expr)
#define CCREX_LOG_DEBUG(expr) CCREX_LOG_AT(::ccrex::util::logging::Level::debug, expr)
