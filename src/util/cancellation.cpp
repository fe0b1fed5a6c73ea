#include "util/cancellation.h"

#include <utility>

namespace ccrex::util {

void Cancellation::cancel() {
  const std::lock_guard lock(m_mutex);
  if (m_flag.exchange(true)) {
    return;
  }
  // Callbacks run under the lock, so a subscription cannot go away while its callback runs.
  for (const auto& fn : m_callbacks) {
    fn();
  }
}

Cancellation::Subscription Cancellation::subscribe(std::function<void()> fn) const {
  const std::lock_guard lock(m_mutex);
  if (m_flag.load()) {
    fn();
    return {};
  }
  m_callbacks.push_back(std::move(fn));
  return {this, std::prev(m_callbacks.end())};
}

Cancellation::Subscription::Subscription(Subscription&& other) noexcept
    : m_owner(std::exchange(other.m_owner, nullptr)),
      m_entry(other.m_entry) {}

Cancellation::Subscription& Cancellation::Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    m_owner = std::exchange(other.m_owner, nullptr);
    m_entry = other.m_entry;
  }
  return *this;
}

Cancellation::Subscription::~Subscription() {
  reset();
}

void Cancellation::Subscription::reset() {
  if (m_owner != nullptr) {
    const std::lock_guard lock(m_owner->m_mutex);
    m_owner->m_callbacks.erase(m_entry);
    m_owner = nullptr;
  }
}

} // namespace ccrex::util
