#include "depscan/packed_scan_record.h"

#include "depscan/content_hash.h"

#include <algorithm>
#include <array>
#include <numeric>
#include <unordered_map>

namespace ccrex::depscan {
namespace {

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

uint64_t get_varint(std::string_view in, size_t& pos) {
  uint64_t v = 0;
  for (int shift = 0; pos < in.size() && shift < 64; shift += 7) {
    const auto byte = static_cast<uint8_t>(in[pos++]);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      break;
    }
  }
  return v;
}

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

std::string_view get_string(std::string_view in, size_t& pos) {
  const size_t n = std::min<size_t>(get_varint(in, pos), in.size() - pos);
  const std::string_view s = in.substr(pos, n);
  pos += n;
  return s;
}

// A stat as a tag (0: none, else 1 + type) and, when present, its fields.
void put_stat(std::string& out, const std::optional<FileStat>& st) {
  if (!st) {
    out.push_back(0);
    return;
  }
  out.push_back(static_cast<char>(1 + static_cast<uint8_t>(st->type)));
  put_varint(out, st->dev);
  put_varint(out, st->ino);
  put_varint(out, zigzag(st->size));
  put_varint(out, zigzag(st->mtime_ns));
  put_varint(out, zigzag(st->ctime_ns - st->mtime_ns));
}

std::optional<FileStat> get_stat(std::string_view in, size_t& pos) {
  const auto tag = pos < in.size() ? static_cast<uint8_t>(in[pos++]) : 0;
  if (tag == 0) {
    return std::nullopt;
  }
  FileStat st;
  st.type = static_cast<FileType>(tag - 1);
  st.dev = get_varint(in, pos);
  st.ino = get_varint(in, pos);
  st.size = unzigzag(get_varint(in, pos));
  st.mtime_ns = unzigzag(get_varint(in, pos));
  st.ctime_ns = st.mtime_ns + unzigzag(get_varint(in, pos));
  return st;
}

uint64_t delta(uint64_t value, uint64_t base) {
  return zigzag(static_cast<int64_t>(value - base));
}

uint64_t undelta(uint64_t stored, uint64_t base) {
  return base + static_cast<uint64_t>(unzigzag(stored));
}

// An observed stat, as put_stat, but each field but the size as its difference from
// `base`, the previous observed stat (files next to each other in path order mostly
// share their device, come from one package with one mtime and one install time, and
// have close inode numbers: a byte or two each instead of up to nine). Updates `base`.
void put_observed_stat(std::string& out, const std::optional<FileStat>& st, FileStat& base) {
  if (!st) {
    out.push_back(0);
    return;
  }
  out.push_back(static_cast<char>(1 + static_cast<uint8_t>(st->type)));
  put_varint(out, delta(st->dev, base.dev));
  put_varint(out, delta(st->ino, base.ino));
  put_varint(out, zigzag(st->size));
  put_varint(out, delta(st->mtime_ns, base.mtime_ns));
  put_varint(out, delta(st->ctime_ns, base.ctime_ns));
  base = *st;
}

// Decode what put_observed_stat wrote.
std::optional<FileStat> get_observed_stat(std::string_view in, size_t& pos, FileStat& base) {
  const auto tag = pos < in.size() ? static_cast<uint8_t>(in[pos++]) : 0;
  if (tag == 0) {
    return std::nullopt;
  }
  FileStat st;
  st.type = static_cast<FileType>(tag - 1);
  st.dev = undelta(get_varint(in, pos), base.dev);
  st.ino = undelta(get_varint(in, pos), base.ino);
  st.size = unzigzag(get_varint(in, pos));
  st.mtime_ns =
      static_cast<int64_t>(undelta(get_varint(in, pos), static_cast<uint64_t>(base.mtime_ns)));
  st.ctime_ns =
      static_cast<int64_t>(undelta(get_varint(in, pos), static_cast<uint64_t>(base.ctime_ns)));
  base = st;
  return st;
}

size_t shared_prefix(std::string_view a, std::string_view b) {
  const auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  return static_cast<size_t>(ia - a.begin());
}

std::array<const std::string*, 6> facts_of(const ScanFacts& f) {
  return {&f.date_time,
          &f.timestamp,
          &f.pragma_dependency,
          &f.pch,
          &f.asm_unresolved,
          &f.dotdot_symlink};
}

std::array<std::string*, 6> facts_of(ScanFacts& f) {
  return {&f.date_time,
          &f.timestamp,
          &f.pragma_dependency,
          &f.pch,
          &f.asm_unresolved,
          &f.dotdot_symlink};
}

// About one path or name in this many ends a run (besides a change of directory).
constexpr uint64_t k_run_cut = 32;

bool hash_cuts(std::string_view s) {
  return content_hash(s) % k_run_cut == 0;
}

std::string_view parent_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

} // namespace

PackedScanRecord::PackedScanRecord(const ScanRecord& record, std::shared_ptr<RunPool> pool)
    : m_pool(pool ? std::move(pool) : std::make_shared<RunPool>()),
      m_observed(record.observed.size()) {
  std::vector<size_t> order(record.observed.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return record.observed[a].first < record.observed[b].first;
  });
  // The runs' bytes, to be interned in the pool: the observed ones, then per lookup its
  // directory and its names.
  std::vector<std::string> runs;
  // Where each path ended up, for the result's references.
  std::unordered_map<std::string_view, size_t> index;
  index.reserve(order.size());
  std::string_view previous;
  FileStat base;
  for (size_t i = 0; i < order.size(); ++i) {
    const auto& [path, st] = record.observed[order[i]];
    if (runs.empty() || parent_of(path) != parent_of(previous) || hash_cuts(path)) {
      runs.emplace_back();
      previous = {};
      base = FileStat{};
    }
    std::string& run = runs.back();
    const size_t shared = shared_prefix(previous, path);
    put_varint(run, shared);
    put_string(run, std::string_view(path).substr(shared));
    put_observed_stat(run, st, base);
    index.emplace(path, i);
    previous = path;
  }
  m_observed_runs = runs.size();

  const ScannedFiles& result = record.result;
  put_varint(m_result, result.files.size());
  for (size_t i = 0; i < result.files.size(); ++i) {
    const FileStat st = i < result.stats.size() ? result.stats[i] : FileStat{};
    const auto it = index.find(result.files[i]);
    if (it != index.end() && record.observed[order[it->second]].second == st) {
      put_varint(m_result, it->second + 1);
      continue;
    }
    put_varint(m_result, 0);
    put_string(m_result, result.files[i]);
    put_stat(m_result, st);
  }
  for (const std::string* fact : facts_of(result.facts)) {
    put_string(m_result, *fact);
  }
  m_result.shrink_to_fit();

  m_lookups.reserve(record.lookups.size());
  std::vector<std::string_view> names;
  for (const auto& [dir, seen] : record.lookups) {
    runs.push_back(dir);
    Lookup l{nullptr, seen.listing, static_cast<uint32_t>(runs.size()), 0};
    names.assign(seen.names.begin(), seen.names.end());
    std::sort(names.begin(), names.end());
    for (size_t i = 0; i < names.size(); ++i) {
      if (i == 0 || hash_cuts(names[i])) {
        runs.emplace_back();
        ++l.runs;
      }
      put_string(runs.back(), names[i]);
    }
    m_lookups.push_back(l);
  }
  m_pool->acquire(runs, m_runs);
  m_runs.shrink_to_fit();
  for (Lookup& l : m_lookups) {
    l.dir = m_runs[l.first_run - 1];
  }
}

PackedScanRecord::~PackedScanRecord() {
  m_pool->release(m_runs);
}

void PackedScanRecord::read_observed(std::string_view run,
                                     size_t& pos,
                                     std::string& path,
                                     std::optional<FileStat>& st,
                                     FileStat& base) {
  const size_t shared = std::min<size_t>(get_varint(run, pos), path.size());
  path.resize(shared);
  path.append(get_string(run, pos));
  st = get_observed_stat(run, pos, base);
}

ScanRecord PackedScanRecord::unpack() const {
  ScanRecord r;
  r.observed.reserve(m_observed);
  for_each_observed([&](size_t, const std::string& path, const std::optional<FileStat>& st) {
    r.observed.emplace_back(path, st);
    return true;
  });
  r.result = result();
  for (const Lookup& l : m_lookups) {
    if (auto seen = lookups_in(l.dir->bytes())) {
      r.lookups.emplace(l.dir->bytes(), std::move(*seen));
    }
  }
  return r;
}

ScannedFiles PackedScanRecord::result() const {
  ScannedFiles out;
  size_t pos = 0;
  const size_t n = get_varint(m_result, pos);
  out.files.resize(n);
  out.stats.resize(n);
  // (observed index, file slot) of the files stored as references, filled in one walk that
  // copies only the paths it needs.
  std::vector<std::pair<size_t, size_t>> refs;
  refs.reserve(n);
  for (size_t i = 0; i < n && pos < m_result.size(); ++i) {
    const size_t ref = get_varint(m_result, pos);
    if (ref != 0) {
      refs.emplace_back(ref - 1, i);
      continue;
    }
    out.files[i] = get_string(m_result, pos);
    out.stats[i] = get_stat(m_result, pos).value_or(FileStat{});
  }
  for (std::string* fact : facts_of(out.facts)) {
    *fact = get_string(m_result, pos);
  }
  std::sort(refs.begin(), refs.end());
  size_t next = 0;
  for_each_observed([&](size_t index, const std::string& path, const std::optional<FileStat>& st) {
    for (; next < refs.size() && refs[next].first == index; ++next) {
      out.files[refs[next].second] = path;
      out.stats[refs[next].second] = st.value_or(FileStat{});
    }
    return next < refs.size();
  });
  return out;
}

std::optional<ScanRecord::DirLookups> PackedScanRecord::lookups_in(std::string_view dir) const {
  for (const Lookup& l : m_lookups) {
    if (l.dir->bytes() != dir) {
      continue;
    }
    ScanRecord::DirLookups out{l.listing, {}};
    for (uint32_t r = l.first_run; r < l.first_run + l.runs; ++r) {
      const std::string_view run = m_runs[r]->bytes();
      size_t pos = 0;
      while (pos < run.size()) {
        out.names.emplace_back(get_string(run, pos));
      }
    }
    return out;
  }
  return std::nullopt;
}

size_t PackedScanRecord::own_bytes() const {
  return sizeof(*this) + m_result.capacity() + m_runs.capacity() * sizeof(m_runs[0])
         + m_lookups.capacity() * sizeof(Lookup);
}

size_t PackedScanRecord::bytes() const {
  size_t n = own_bytes();
  for (const RunPool::Run* run : m_runs) {
    n += RunPool::pooled_cost(run->bytes().size());
  }
  return n;
}

} // namespace ccrex::depscan
