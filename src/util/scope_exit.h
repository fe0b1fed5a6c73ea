#pragma once

// Run a callable when the scope ends, unless dismissed.
//
//   int fd = open(...);
//   ScopeExit close_fd([&] { ::close(fd); });

#include <utility>

namespace ccrex::util {

template <typename F>
class ScopeExit {
public:
  explicit ScopeExit(F f) : m_f(std::move(f)) {}
  ~ScopeExit() {
    if (m_active) {
      m_f();
    }
  }
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;
  void dismiss() { m_active = false; }

private:
  F m_f;
  bool m_active = true;
};

} // namespace ccrex::util
