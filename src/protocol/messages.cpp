#include "protocol/messages.h"

#include <array>

namespace ccrex::protocol {
namespace {

using util::Result;

// Appends little-endian numbers and length-prefixed strings to a buffer.
class Writer {
public:
  void u32(uint32_t v) {
    std::array<char, 4> b{};
    for (size_t i = 0; i < b.size(); ++i) {
      b[i] = static_cast<char>((v >> (8 * i)) & 0xFFU);
    }
    m_out.append(b.data(), b.size());
  }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    m_out.append(s);
  }
  void list(const std::vector<std::string>& items) {
    u32(static_cast<uint32_t>(items.size()));
    for (const auto& s : items) {
      str(s);
    }
  }
  // Return the frame: header followed by everything written so far.
  std::string frame() && {
    Writer header;
    header.m_out.append(k_magic);
    header.u32(k_protocol_version);
    header.u32(static_cast<uint32_t>(m_out.size()));
    return std::move(header.m_out) + m_out;
  }

private:
  std::string m_out;
};

// Reads the same encoding from a buffer; every read is bounds-checked.
class Reader {
public:
  explicit Reader(std::string_view data) : m_data(data) {}

  Result<uint32_t> u32() {
    if (m_data.size() < 4) {
      return truncated();
    }
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) {
      v |= static_cast<uint32_t>(static_cast<unsigned char>(m_data[i])) << (8 * i);
    }
    m_data.remove_prefix(4);
    return v;
  }
  Result<int32_t> i32() {
    CCREX_ASSIGN_OR_RETURN(const uint32_t v, u32());
    return static_cast<int32_t>(v);
  }
  Result<std::string> str() {
    CCREX_ASSIGN_OR_RETURN(const uint32_t size, u32());
    if (size > m_data.size()) {
      return truncated();
    }
    std::string s(m_data.substr(0, size));
    m_data.remove_prefix(size);
    return s;
  }
  Result<std::vector<std::string>> list() {
    CCREX_ASSIGN_OR_RETURN(const uint32_t count, u32());
    if (count > k_max_list_size) {
      return util::invalid_argument("list of " + std::to_string(count)
                                    + " entries exceeds the limit");
    }
    // Every entry needs at least its 4-byte length, so a count the buffer can't hold is
    // rejected before anything is allocated.
    if (count > m_data.size() / 4) {
      return truncated();
    }
    std::vector<std::string> items;
    items.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
      CCREX_ASSIGN_OR_RETURN(auto s, str());
      items.push_back(std::move(s));
    }
    return items;
  }
  util::Status finish() const {
    if (!m_data.empty()) {
      return util::invalid_argument(std::to_string(m_data.size()) + " trailing bytes in message");
    }
    return {};
  }

private:
  static util::Error truncated() { return util::invalid_argument("truncated message"); }

  std::string_view m_data;
};

Result<std::string_view> checked_payload(std::string_view frame) {
  CCREX_ASSIGN_OR_RETURN(const FrameHeader header, decode_header(frame));
  if (header.version != k_protocol_version) {
    return util::invalid_argument("protocol version " + std::to_string(header.version)
                                  + ", expected " + std::to_string(k_protocol_version));
  }
  const std::string_view payload = frame.substr(k_header_size);
  if (payload.size() != header.payload_size) {
    return util::invalid_argument("frame holds " + std::to_string(payload.size())
                                  + " payload bytes, header says "
                                  + std::to_string(header.payload_size));
  }
  return payload;
}

} // namespace

std::string encode_request(const Request& request) {
  Writer w;
  w.u32(static_cast<uint32_t>(request.kind));
  w.list(request.argv);
  w.str(request.cwd);
  w.list(request.env);
  w.u32(request.umask);
  return std::move(w).frame();
}

std::string encode_reply(const Reply& reply) {
  Writer w;
  w.u32(static_cast<uint32_t>(reply.kind));
  switch (reply.kind) {
  case ReplyKind::done:
    w.i32(reply.exit_code);
    break;
  case ReplyKind::run_locally:
    w.str(reply.reason);
    break;
  case ReplyKind::text:
    w.str(reply.out);
    w.str(reply.err);
    w.i32(reply.exit_code);
    break;
  case ReplyKind::working:
    break;
  }
  return std::move(w).frame();
}

util::Result<FrameHeader> decode_header(std::string_view bytes) {
  if (bytes.size() < k_header_size) {
    return util::invalid_argument("truncated frame header");
  }
  if (bytes.substr(0, k_magic.size()) != k_magic) {
    return util::invalid_argument("bad frame magic");
  }
  Reader r(bytes.substr(k_magic.size(), 8));
  FrameHeader header;
  CCREX_ASSIGN_OR_RETURN(header.version, r.u32());
  CCREX_ASSIGN_OR_RETURN(header.payload_size, r.u32());
  if (header.payload_size > k_max_payload_size) {
    return util::invalid_argument("frame payload of " + std::to_string(header.payload_size)
                                  + " bytes exceeds the limit");
  }
  return header;
}

util::Result<Request> decode_request_payload(std::string_view payload) {
  Reader r(payload);
  CCREX_ASSIGN_OR_RETURN(const uint32_t kind, r.u32());
  if (kind != static_cast<uint32_t>(RequestKind::compile)
      && kind != static_cast<uint32_t>(RequestKind::admin)) {
    return util::invalid_argument("unknown request kind " + std::to_string(kind));
  }
  Request request;
  request.kind = static_cast<RequestKind>(kind);
  CCREX_ASSIGN_OR_RETURN(request.argv, r.list());
  CCREX_ASSIGN_OR_RETURN(request.cwd, r.str());
  CCREX_ASSIGN_OR_RETURN(request.env, r.list());
  CCREX_ASSIGN_OR_RETURN(request.umask, r.u32());
  if (request.umask > 0777) {
    return util::invalid_argument("umask " + std::to_string(request.umask) + " out of range");
  }
  CCREX_TRY(r.finish());
  return request;
}

util::Result<Reply> decode_reply_payload(std::string_view payload) {
  Reader r(payload);
  CCREX_ASSIGN_OR_RETURN(const uint32_t kind, r.u32());
  Reply reply;
  switch (kind) {
  case static_cast<uint32_t>(ReplyKind::done): {
    reply.kind = ReplyKind::done;
    CCREX_ASSIGN_OR_RETURN(reply.exit_code, r.i32());
    break;
  }
  case static_cast<uint32_t>(ReplyKind::run_locally): {
    reply.kind = ReplyKind::run_locally;
    CCREX_ASSIGN_OR_RETURN(reply.reason, r.str());
    break;
  }
  case static_cast<uint32_t>(ReplyKind::text): {
    reply.kind = ReplyKind::text;
    CCREX_ASSIGN_OR_RETURN(reply.out, r.str());
    CCREX_ASSIGN_OR_RETURN(reply.err, r.str());
    CCREX_ASSIGN_OR_RETURN(reply.exit_code, r.i32());
    break;
  }
  case static_cast<uint32_t>(ReplyKind::working):
    reply.kind = ReplyKind::working;
    break;
  default:
    return util::invalid_argument("unknown reply kind " + std::to_string(kind));
  }
  CCREX_TRY(r.finish());
  return reply;
}

util::Result<Request> decode_request(std::string_view frame) {
  CCREX_ASSIGN_OR_RETURN(const std::string_view payload, checked_payload(frame));
  return decode_request_payload(payload);
}

util::Result<Reply> decode_reply(std::string_view frame) {
  CCREX_ASSIGN_OR_RETURN(const std::string_view payload, checked_payload(frame));
  return decode_reply_payload(payload);
}

} // namespace ccrex::protocol
