// The rank-file layout, shared by the writer (inside the job, no libprotobuf) and the reader.
// docs/FORMAT.md is the prose version; keep them in step. All integers little endian.
//
//   preamble  magic[8] "DDRRtrc\0" | u32 format_version | u32 header_len | u32 header_crc32c
//             | Header message (header_len bytes)
//   frames    FrameHeader (32 bytes) | zstd frame (compressed_len bytes)      ... repeated
//   footer    u32 "DFTR" | u32 footer_len | u32 footer_crc32c | Footer message
//   trailer   u64 offset of the footer magic | magic[8] "DDRRend\0"
//
// An event frame decompresses to length-delimited Event messages (varint length, bytes); a
// payload frame to length-delimited Payload messages. Each frame decodes on its own: the first
// event carries its seq and its time counts from the header's start_mono_ns.
#pragma once

#include <cstdint>
#include <cstring>

#include "common/crc32c.h"

namespace ddrr::trace {

inline constexpr char kFileMagic[8] = {'D', 'D', 'R', 'R', 't', 'r', 'c', '\0'};
inline constexpr char kTrailerMagic[8] = {'D', 'D', 'R', 'R', 'e', 'n', 'd', '\0'};
inline constexpr uint32_t kFrameMagic = 0x4D524644;   // "DFRM"
inline constexpr uint32_t kFooterMagic = 0x52544644;  // "DFTR"

// Version history (docs/FORMAT.md): 1 = first release.
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint32_t kOldestReadableVersion = 1;

// A Completion whose call is at most this many events back may leave out the call's op_seq:
// readers remember that many recent calls (docs/FORMAT.md).
inline constexpr uint64_t kImplicitOpSeqMaxBack = 1024;

inline constexpr size_t kPreambleSize = 20;
inline constexpr size_t kFrameHeaderSize = 32;
inline constexpr size_t kFooterPrefixSize = 12;
inline constexpr size_t kTrailerSize = 16;

// Bounds that let a reader reject a damaged length before trusting it.
inline constexpr uint32_t kMaxHeaderBytes = 16u << 20;
inline constexpr uint32_t kMaxFrameRawBytes = 256u << 20;
inline constexpr uint32_t kMaxFooterBytes = 1u << 30;

// Little-endian loads of the layout's integers (x86-64 and aarch64 are little endian).
inline uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// The preamble's fields, and the one check of them the reader and salvage share.
struct Preamble {
  uint32_t version = 0, header_len = 0, header_crc = 0;
};
enum class PreambleCheck {
  kOk,
  kEmpty,            // no bytes at all
  kBadMagic,         // not a ddrr trace
  kTruncated,        // ends inside the preamble
  kTooNew,           // version newer than kFormatVersion
  kTooOld,           // version older than kOldestReadableVersion
  kBadHeaderLength,  // header_len over kMaxHeaderBytes
  kHeaderTruncated,  // ends inside the header
  kBadHeaderCrc,     // header bytes do not match header_crc
};
inline PreambleCheck CheckPreamble(const uint8_t* data, uint64_t size, Preamble* p) {
  if (size == 0) return PreambleCheck::kEmpty;
  if (size < 8 || std::memcmp(data, kFileMagic, 8) != 0) return PreambleCheck::kBadMagic;
  if (size < kPreambleSize) return PreambleCheck::kTruncated;
  p->version = Load32(data + 8);
  p->header_len = Load32(data + 12);
  p->header_crc = Load32(data + 16);
  if (p->version > kFormatVersion) return PreambleCheck::kTooNew;
  if (p->version < kOldestReadableVersion) return PreambleCheck::kTooOld;
  if (p->header_len > kMaxHeaderBytes) return PreambleCheck::kBadHeaderLength;
  if (kPreambleSize + uint64_t{p->header_len} > size) return PreambleCheck::kHeaderTruncated;
  if (Crc32c(data + kPreambleSize, p->header_len) != p->header_crc)
    return PreambleCheck::kBadHeaderCrc;
  return PreambleCheck::kOk;
}

// Where the footer message lies, checked alike by the reader and the bundle's copy: the trailer,
// the footer offset it holds (within [frames_begin, trailer)), the footer magic, a length that
// ends exactly at the trailer, and the checksum. `*at` is set from kDamaged on.
enum class FooterCheck { kOk, kNoTrailer, kBadOffset, kDamaged };
inline FooterCheck LocateFooter(const uint8_t* data, uint64_t size, uint64_t frames_begin,
                                uint64_t* at, uint32_t* len) {
  if (size < frames_begin + kTrailerSize || std::memcmp(data + size - 8, kTrailerMagic, 8) != 0)
    return FooterCheck::kNoTrailer;
  const uint64_t footer_off = Load64(data + size - kTrailerSize);
  const uint64_t trailer_off = size - kTrailerSize;
  // Compare by subtraction: a damaged offset near 2^64 must not wrap around the bounds check.
  if (footer_off < frames_begin || footer_off > trailer_off ||
      trailer_off - footer_off < kFooterPrefixSize || Load32(data + footer_off) != kFooterMagic)
    return FooterCheck::kBadOffset;
  *at = footer_off;
  *len = Load32(data + footer_off + 4);
  const uint32_t crc = Load32(data + footer_off + 8);
  if (*len > kMaxFooterBytes || trailer_off - footer_off - kFooterPrefixSize != *len ||
      Crc32c(data + footer_off + kFooterPrefixSize, *len) != crc)
    return FooterCheck::kDamaged;
  return FooterCheck::kOk;
}

// trace.proto's FrameKind and EndReason for the writer, which does without libprotobuf
// (trace_reader.cc checks them against the generated enums).
enum class FrameKindCode : uint8_t { kEvents = 1, kPayloads = 2 };
inline constexpr int32_t kEndExit = 1, kEndSignal = 2, kEndSalvaged = 3, kEndClosed = 4,
                         kEndLive = 5;

// Bytes of a packed frame header the checksum covers: all but the crc, its last field.
inline constexpr size_t kFrameHeaderCrcBytes = kFrameHeaderSize - 4;

struct FrameHeader {
  uint32_t magic;
  uint8_t kind;
  uint8_t flags;
  uint16_t reserved;
  uint32_t compressed_len;
  uint32_t raw_len;
  uint32_t event_count;
  uint64_t first_seq;
  uint32_t crc;  // CRC-32C of the kFrameHeaderCrcBytes above, then of the compressed bytes
};

// Serialised field by field so struct padding never reaches the file.
inline void PackFrameHeader(const FrameHeader& h, uint8_t out[kFrameHeaderSize]) {
  std::memcpy(out + 0, &h.magic, 4);
  out[4] = h.kind;
  out[5] = h.flags;
  std::memcpy(out + 6, &h.reserved, 2);
  std::memcpy(out + 8, &h.compressed_len, 4);
  std::memcpy(out + 12, &h.raw_len, 4);
  std::memcpy(out + 16, &h.event_count, 4);
  std::memcpy(out + 20, &h.first_seq, 8);
  std::memcpy(out + kFrameHeaderCrcBytes, &h.crc, 4);
}

inline FrameHeader UnpackFrameHeader(const uint8_t in[kFrameHeaderSize]) {
  FrameHeader h;
  std::memcpy(&h.magic, in + 0, 4);
  h.kind = in[4];
  h.flags = in[5];
  std::memcpy(&h.reserved, in + 6, 2);
  std::memcpy(&h.compressed_len, in + 8, 4);
  std::memcpy(&h.raw_len, in + 12, 4);
  std::memcpy(&h.event_count, in + 16, 4);
  std::memcpy(&h.first_seq, in + 20, 8);
  std::memcpy(&h.crc, in + kFrameHeaderCrcBytes, 4);
  return h;
}

// The checksum a frame header carries: CRC-32C of the packed header less its crc, then of the
// frame's compressed bytes.
inline uint32_t FrameCrc(const uint8_t packed[kFrameHeaderSize], const uint8_t* data, size_t len) {
  return Crc32c(data, len, Crc32c(packed, kFrameHeaderCrcBytes));
}

// Whether a frame that verifies starts at `off` of `base` (frames end by `end`): magic, a length
// that fits, and the checksum. The writer's frames, the reader's resynchronisation and salvage
// all stand on this one test.
inline bool FrameVerifies(const uint8_t* base, uint64_t off, uint64_t end, FrameHeader* h) {
  if (off > end || end - off < kFrameHeaderSize) return false;
  *h = UnpackFrameHeader(base + off);
  if (h->magic != kFrameMagic) return false;
  if (h->compressed_len > end - off - kFrameHeaderSize) return false;
  return FrameCrc(base + off, base + off + kFrameHeaderSize, h->compressed_len) == h->crc;
}

// Field numbers of trace.proto that the hand encoder writes; the round-trip test pins them.
namespace field {
inline constexpr uint32_t kEventSeq = 1, kEventThread = 2, kEventTimeDelta = 3, kEventCall = 4,
                          kEventCompletion = 5, kEventMark = 6, kEventRng = 7, kEventEntropy = 8,
                          kEventDigest = 9, kEventPayload = 10, kEventKernels = 11,
                          kEventThreadName = 12, kEventNote = 13, kEventOpSeq = 14,
                          kEventEnter = 15;
}  // namespace field

}  // namespace ddrr::trace
