#pragma once

// A fast, non-cryptographic 64-bit hash of a byte string, used by the scanner's caches to
// find files that may have the same content, and to name on-disk probe cache files. It is
// not collision resistant: every user confirms a match by comparing the bytes (or the full
// key) before trusting it. Keeping SHA-256 out of the scanner also keeps libcrypto out of
// the ccrex-depscan process, whose start-up cost matters for one-shot scans.
//
// Thread safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

namespace ccrex::depscan {

// Return a 64-bit hash of `bytes` (stable across processes and runs of the same build).
uint64_t content_hash(std::string_view bytes);

// Return content_hash(bytes) as 16 lowercase hex digits.
std::string content_hash_hex(std::string_view bytes);

} // namespace ccrex::depscan
