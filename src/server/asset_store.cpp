#include "server/asset_store.h"

#include "util/file.h"
#include "util/logging.h"
#include "util/sha256.h"
#include "util/strings.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

namespace ccrex::server {
namespace {

namespace v2 = reapi::v2;
namespace asset = reapi::asset;

// First line of every record file: format version, kind and push time follow.
constexpr std::string_view k_magic = "ccrex-asset-1";
// A record file larger than this is not one of ours.
constexpr size_t k_max_record_bytes = size_t{4} << 20;

void append_field(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

std::string_view kind_name(AssetKind kind) {
  return kind == AssetKind::blob ? "blob" : "directory";
}

// The fields both push requests share, in a PushDirectoryRequest (PushBlobRequest has the
// same fields under the same numbers; only the fifth field's name differs).
asset::PushDirectoryRequest to_message(const AssetKey& key, const AssetRecord& record) {
  asset::PushDirectoryRequest m;
  m.set_instance_name(key.instance);
  m.add_uris(key.uri);
  for (const auto& [name, value] : key.qualifiers) {
    auto* q = m.add_qualifiers();
    q->set_name(name);
    q->set_value(value);
  }
  if (record.expires_at_ms != 0) {
    m.mutable_expire_at()->set_seconds(record.expires_at_ms / 1000);
    m.mutable_expire_at()->set_nanos(static_cast<int32_t>((record.expires_at_ms % 1000) * 1000000));
  }
  *m.mutable_root_directory_digest() = record.target;
  for (const auto& d : record.referenced_blobs) {
    *m.add_references_blobs() = d;
  }
  for (const auto& d : record.referenced_directories) {
    *m.add_references_directories() = d;
  }
  return m;
}

// Parse a record file; nullopt when it is not a well-formed record for `key`.
std::optional<AssetRecord> parse_record(std::string_view text, const AssetKey& key) {
  const size_t eol = text.find('\n');
  if (eol == std::string_view::npos) {
    return std::nullopt;
  }
  const auto header = util::split(text.substr(0, eol), ' ', true);
  if (header.size() != 3 || header[0] != k_magic || header[1] != kind_name(key.kind)) {
    return std::nullopt;
  }
  const auto pushed = util::parse_int(header[2]);
  asset::PushDirectoryRequest m;
  if (!pushed || !m.ParseFromArray(text.data() + eol + 1, static_cast<int>(text.size() - eol - 1))
      || m.uris_size() != 1) {
    return std::nullopt;
  }
  auto stored_key = make_asset_key(m.instance_name(), key.kind, m.uris(0), m.qualifiers());
  if (!stored_key || !(*stored_key == key)) {
    return std::nullopt;
  }
  AssetRecord record;
  record.target = m.root_directory_digest();
  record.referenced_blobs.assign(m.references_blobs().begin(), m.references_blobs().end());
  record.referenced_directories.assign(m.references_directories().begin(),
                                       m.references_directories().end());
  record.pushed_at_ms = *pushed;
  if (m.has_expire_at()) {
    record.expires_at_ms = m.expire_at().seconds() * 1000 + m.expire_at().nanos() / 1000000;
  }
  return record;
}

// The modification time of `path` in milliseconds, or nullopt when it is not a file.
std::optional<int64_t> mtime_ms(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return std::nullopt;
  }
  return int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1000000;
}

} // namespace

std::string AssetKey::canonical() const {
  std::string out;
  append_field(out, instance);
  append_field(out, kind_name(kind));
  append_field(out, uri);
  for (const auto& [name, value] : qualifiers) {
    append_field(out, name);
    append_field(out, value);
  }
  return out;
}

util::Result<AssetKey>
make_asset_key(std::string_view instance,
               AssetKind kind,
               std::string_view uri,
               const google::protobuf::RepeatedPtrField<asset::Qualifier>& qualifiers) {
  AssetKey key;
  key.instance = std::string(instance);
  key.kind = kind;
  key.uri = std::string(uri);
  for (const auto& q : qualifiers) {
    if (q.name().empty()) {
      return util::invalid_argument("a qualifier has an empty name");
    }
    key.qualifiers.emplace_back(q.name(), q.value());
  }
  std::sort(key.qualifiers.begin(), key.qualifiers.end());
  for (size_t i = 1; i < key.qualifiers.size(); ++i) {
    if (key.qualifiers[i].first == key.qualifiers[i - 1].first) {
      return util::invalid_argument("qualifier '" + key.qualifiers[i].first
                                    + "' is given more than once");
    }
  }
  return key;
}

AssetStore::AssetStore(std::string dir, size_t max_records)
    : m_dir(std::move(dir)),
      m_max_records(std::max<size_t>(1, max_records)) {}

util::Result<std::unique_ptr<AssetStore>> AssetStore::open(const std::string& store_dir,
                                                           size_t max_records) {
  std::unique_ptr<AssetStore> store(
      new AssetStore(util::join_path(store_dir, "assets"), max_records));
  CCREX_TRY(util::make_dirs(store->m_dir, 0777));
  CCREX_TRY(store->load_index());
  return store;
}

util::Status AssetStore::load_index() {
  std::error_code ec;
  std::vector<std::pair<int64_t, std::string>> found;
  for (std::filesystem::directory_iterator shard(m_dir, ec), end; !ec && shard != end;
       shard.increment(ec)) {
    std::error_code inner;
    for (std::filesystem::directory_iterator it(shard->path(), inner); !inner && it != end;
         it.increment(inner)) {
      const std::string name = it->path().filename().string();
      if (!util::is_valid_sha256_hex(name)) {
        continue; // a temporary file of an interrupted write, or not ours
      }
      if (const auto t = mtime_ms(it->path().string())) {
        found.emplace_back(*t, name);
      }
    }
  }
  if (ec) {
    return util::Error(util::ErrorCode::internal,
                       "reading the asset mappings in " + m_dir + ": " + ec.message());
  }
  const std::lock_guard lock(m_mutex);
  for (auto& [t, id] : found) {
    m_pushed[id] = t;
    m_by_age.emplace(t, std::move(id));
  }
  return {};
}

std::string AssetStore::path_of(const std::string& id) const {
  return m_dir + "/" + id.substr(0, 2) + "/" + id;
}

void AssetStore::forget_locked(const std::string& id) {
  const auto it = m_pushed.find(id);
  if (it != m_pushed.end()) {
    m_by_age.erase({it->second, id});
    m_pushed.erase(it);
  }
}

util::Status AssetStore::put(const AssetKey& key, const AssetRecord& record) {
  const std::string id = util::sha256_hex(key.canonical());
  const std::string path = path_of(id);
  std::string text = std::string(k_magic) + " " + std::string(kind_name(key.kind)) + " "
                     + std::to_string(record.pushed_at_ms) + "\n";
  text += to_message(key, record).SerializeAsString();
  CCREX_TRY(util::make_dirs(util::dirname(path), 0777));
  CCREX_TRY(util::write_file_atomic(path, text, 0644));
  std::vector<std::string> evicted;
  {
    const std::lock_guard lock(m_mutex);
    forget_locked(id);
    m_pushed[id] = record.pushed_at_ms;
    m_by_age.emplace(record.pushed_at_ms, id);
    while (m_pushed.size() > m_max_records) {
      auto oldest = m_by_age.begin();
      evicted.push_back(oldest->second);
      m_pushed.erase(oldest->second);
      m_by_age.erase(oldest);
    }
  }
  for (const auto& old : evicted) {
    if (::unlink(path_of(old).c_str()) != 0 && errno != ENOENT) {
      CCREX_LOG_WARN("asset store: cannot remove the mapping "
                     << path_of(old) << ": " << util::errno_error("unlink", errno).message());
    }
  }
  if (!evicted.empty()) {
    CCREX_LOG_INFO("asset store: dropped " << evicted.size() << " oldest mapping(s) beyond "
                                           << m_max_records);
  }
  return {};
}

std::optional<AssetRecord> AssetStore::get(const AssetKey& key) const {
  const std::string path = path_of(util::sha256_hex(key.canonical()));
  auto text = util::read_regular_file(path, k_max_record_bytes);
  if (!text) {
    return std::nullopt;
  }
  auto record = parse_record(*text, key);
  if (!record) {
    CCREX_LOG_WARN("asset store: ignoring the unreadable mapping " << path);
  }
  return record;
}

void AssetStore::remove(const AssetKey& key) {
  const std::string id = util::sha256_hex(key.canonical());
  {
    const std::lock_guard lock(m_mutex);
    forget_locked(id);
  }
  (void)::unlink(path_of(id).c_str());
}

size_t AssetStore::size() const {
  const std::lock_guard lock(m_mutex);
  return m_pushed.size();
}

} // namespace ccrex::server
