// Protocol Buffers wire-format encoder for the recorder. It needs no libprotobuf, allocates only
// when its buffer grows, and produces bytes that libprotobuf's generated classes parse (the
// round-trip test pins that). proto3 semantics: scalar fields equal to zero are not written.
//
// Thread-safety: none; one encoder per thread or per event.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace ddrr::trace {

struct Dim3Value {
  uint32_t x = 0, y = 0, z = 0;
};

// ncclConfig_t as recorded; fields with has_* false are absent (NCCL_CONFIG_UNDEF_*).
struct NcclConfigValue {
  static constexpr int kFields = 14;
  bool has[kFields] = {};
  int32_t value[kFields] = {};          // index i = field i+1; string fields use text[]
  std::string_view text[kFields] = {};  // net_name (4), comm_name (7)
};

// Writes through a pointer, for a caller that has reserved room for a whole message
// (WireEncoder::Room): each returns the end of what it wrote. WireEncoder writes through them.
namespace wire {
constexpr uint64_t Tag(uint32_t field, uint32_t wire_type) {
  return uint64_t{field} << 3 | wire_type;
}
inline uint8_t* Varint(uint8_t* w, uint64_t v) {
  for (; v >= 0x80; v >>= 7) *w++ = static_cast<uint8_t>(v) | 0x80;
  *w++ = static_cast<uint8_t>(v);
  return w;
}
inline uint8_t* Field(uint8_t* w, uint32_t field, uint64_t v) {
  return Varint(Varint(w, Tag(field, 0)), v);
}
inline uint8_t* Bytes(uint8_t* w, uint32_t field, std::string_view s) {
  w = Varint(Varint(w, Tag(field, 2)), s.size());
  std::memcpy(w, s.data(), s.size());
  return w + s.size();
}
// A nested message: its tag and one byte for its length, which Close fills in.
inline uint8_t* Open(uint8_t* w, uint32_t field, uint8_t** length_at) {
  w = Varint(w, Tag(field, 2));
  *length_at = w;
  return w + 1;
}
// The body from length_at + 1 to `end` gets its length; a length of more than one byte moves
// the body up (9 bytes at most: the room must be there).
inline uint8_t* Close(uint8_t* length_at, uint8_t* end) {
  const size_t length = static_cast<size_t>(end - length_at - 1);
  if (length < 0x80) {
    *length_at = static_cast<uint8_t>(length);
    return end;
  }
  uint8_t prefix[10];
  const size_t n = static_cast<size_t>(Varint(prefix, length) - prefix);
  std::memmove(length_at + n, length_at + 1, length);
  std::memcpy(length_at, prefix, n);
  return end + n - 1;
}
}  // namespace wire

class WireEncoder {
 public:
  WireEncoder() = default;
  ~WireEncoder() { delete[] data_; }
  WireEncoder(const WireEncoder&) = delete;
  WireEncoder& operator=(const WireEncoder&) = delete;

  void Clear() { size_ = 0; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }

  // Raw helpers (no field tag).
  void RawVarint(uint64_t v) {
    Reserve(10);
    Commit(wire::Varint(data_ + size_, v));
  }
  void RawBytes(const void* p, size_t n) {
    Reserve(n);
    if (n) std::memcpy(data_ + size_, p, n);
    size_ += n;
  }
  // For a caller that encodes a bounded run of bytes itself: room for `n` more bytes at the
  // pointer returned, then Commit with the end of what it wrote there.
  uint8_t* Room(size_t n) {
    Reserve(n);
    return data_ + size_;
  }
  void Commit(const uint8_t* end) { size_ = static_cast<size_t>(end - data_); }
  void RawFixed32(uint32_t v) { RawBytes(&v, 4); }  // x86-64 / aarch64: little endian
  void RawFixed64(uint64_t v) { RawBytes(&v, 8); }

  // Fields. proto3 drops scalars equal to zero; the *Always forms write them anyway, for
  // `optional` fields and the elements of repeated ones.
  void Tag(uint32_t field, uint32_t wire_type) { RawVarint((uint64_t(field) << 3) | wire_type); }
  void VarintAlways(uint32_t field, uint64_t v) {
    Tag(field, 0);
    RawVarint(v);
  }
  void BytesAlways(uint32_t field, std::string_view v) {
    Tag(field, 2);
    RawVarint(v.size());
    RawBytes(v.data(), v.size());
  }
  void Varint(uint32_t field, uint64_t v) {
    if (v != 0) VarintAlways(field, v);
  }
  void Bool(uint32_t field, bool v) { Varint(field, v ? 1 : 0); }
  // int32/int64 fields: a negative value as its 64-bit two's complement, as protobuf writes it.
  void Int(uint32_t field, int64_t v) { Varint(field, static_cast<uint64_t>(v)); }
  void Sint(uint32_t field, int64_t v) {
    Varint(field, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  void Fixed32(uint32_t field, uint32_t v) {
    if (v == 0) return;
    Tag(field, 5);
    RawFixed32(v);
  }
  void Fixed64(uint32_t field, uint64_t v) {
    if (v == 0) return;
    Tag(field, 1);
    RawFixed64(v);
  }
  // Only +0.0 has all bits zero: -0.0 is written, as libprotobuf does.
  void Float(uint32_t field, float v) { Fixed32(field, std::bit_cast<uint32_t>(v)); }
  void Double(uint32_t field, double v) { Fixed64(field, std::bit_cast<uint64_t>(v)); }
  void Bytes(uint32_t field, std::string_view v) {
    if (!v.empty()) BytesAlways(field, v);
  }
  template <typename Int>
  void PackedVarint(uint32_t field, std::span<const Int> values) {
    if (values.empty()) return;
    const size_t m = BeginMessage(field);
    for (Int v : values) RawVarint(static_cast<uint64_t>(v));
    EndMessage(m);
  }

  // Nested message: BeginMessage writes the tag and reserves one length byte; EndMessage fills
  // it in, moving the body if the length needs more bytes (rare: most events are < 128 bytes).
  size_t BeginMessage(uint32_t field) {
    Tag(field, 2);
    Reserve(1);
    data_[size_++] = 0;
    return size_;
  }
  void EndMessage(size_t body_start) {
    if (size_ - body_start >= 0x80) Reserve(9);  // room for a longer length
    Commit(wire::Close(data_ + body_start - 1, data_ + size_));
  }

 private:
  void Reserve(size_t n) {
    if (size_ + n <= capacity_) return;
    size_t cap = capacity_ ? capacity_ * 2 : 256;
    while (cap < size_ + n) cap *= 2;
    auto* grown = new uint8_t[cap];
    if (size_) std::memcpy(grown, data_, size_);
    delete[] data_;
    data_ = grown;
    capacity_ = cap;
  }

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// A nested message field for as long as it lives: its tag when made, its length when destroyed.
class NestedMessage {
 public:
  NestedMessage(WireEncoder& e, uint32_t field) : e_(e), body_start_(e.BeginMessage(field)) {}
  ~NestedMessage() { e_.EndMessage(body_start_); }
  NestedMessage(const NestedMessage&) = delete;
  NestedMessage& operator=(const NestedMessage&) = delete;

 private:
  WireEncoder& e_;
  const size_t body_start_;
};

inline void EncodeDim3(WireEncoder& e, uint32_t field, const Dim3Value& d) {
  NestedMessage dim3(e, field);
  e.Varint(1, d.x);
  e.Varint(2, d.y);
  e.Varint(3, d.z);
}

inline void EncodeNcclConfig(WireEncoder& e, uint32_t field, const NcclConfigValue& c) {
  NestedMessage config(e, field);
  for (int i = 0; i < NcclConfigValue::kFields; ++i) {
    if (!c.has[i]) continue;
    if (i == 4 || i == 7) {  // net_name, comm_name: strings
      e.BytesAlways(i + 1, c.text[i]);
    } else {
      e.VarintAlways(i + 1, static_cast<uint64_t>(static_cast<int64_t>(c.value[i])));
    }
  }
}

}  // namespace ddrr::trace
