// Damaged input: every kind gets a one-line problem naming file and offset, and every intact
// frame is still read.
#include <gtest/gtest.h>

#include <filesystem>

#include "ddrr-synth/synthetic_run.h"
#include "trace/format.h"
#include "trace/test_util.h"
#include "trace/trace_reader.h"

namespace ddrr::trace {
namespace {

struct Fixture {
  testing::TempDir dir;
  std::string path;
  std::string bytes;
  uint64_t events = 0;
  std::vector<uint64_t> frame_offsets;
  std::vector<uint32_t> frame_counts;
  uint64_t footer_offset = 0;
};

Fixture MakeTrace() {
  Fixture fx;
  SyntheticRunOptions o;
  o.world_size = 1;
  o.steps = 30;
  o.writer.frame_raw_bytes = 1024;  // many small frames
  auto n = WriteSyntheticRun(fx.dir.path(), o);
  if (!n.ok()) {
    ADD_FAILURE() << n.status().ToString();
    return fx;
  }
  fx.events = *n;
  fx.path = fx.dir.File("rank-0.ddrr");
  fx.bytes = testing::ReadFile(fx.path);
  auto r = RankFileReader::Open(fx.path);
  if (!r.ok()) {
    ADD_FAILURE() << r.status().ToString();
    return fx;
  }
  for (const auto& f : (*r)->footer()->frames()) {
    fx.frame_offsets.push_back(f.offset());
    fx.frame_counts.push_back(f.event_count());
  }
  std::memcpy(&fx.footer_offset, fx.bytes.data() + fx.bytes.size() - kTrailerSize, 8);
  return fx;
}

struct ReadResult {
  Status open;
  uint64_t events = 0;
  std::vector<TraceProblem> problems;
};

ReadResult ReadAll(const std::string& path) {
  ReadResult res;
  auto r = RankFileReader::Open(path);
  res.open = r.status();
  if (!r.ok()) return res;
  Event ev;
  EventPosition pos;
  while ((*r)->Next(&ev, &pos)) ++res.events;
  res.problems = (*r)->problems();
  return res;
}

// The fixture's rank file, its content replaced by `bytes` (a damaged copy), read to the end.
ReadResult ReadDamaged(const Fixture& fx, const std::string& bytes) {
  testing::WriteFile(fx.path, bytes);
  return ReadAll(fx.path);
}

TEST(TraceDamageTest, IntactFileHasNoProblems) {
  Fixture fx = MakeTrace();
  ASSERT_GT(fx.frame_offsets.size(), 5u);
  ReadResult res = ReadAll(fx.path);
  ASSERT_TRUE(res.open.ok());
  EXPECT_EQ(res.events, fx.events);
  EXPECT_TRUE(res.problems.empty());
}

TEST(TraceDamageTest, EmptyFile) {
  Fixture fx = MakeTrace();
  ReadResult res = ReadDamaged(fx, "");
  EXPECT_EQ(res.open.code(), StatusCode::kCorruption);
  EXPECT_NE(res.open.message().find("rank-0.ddrr: offset 0: empty file"), std::string::npos)
      << res.open.message();
}

TEST(TraceDamageTest, WrongMagic) {
  Fixture fx = MakeTrace();
  fx.bytes[1] = 'X';
  ReadResult res = ReadDamaged(fx, fx.bytes);
  EXPECT_EQ(res.open.code(), StatusCode::kCorruption);
  EXPECT_NE(res.open.message().find("offset 0: not a ddrr trace"), std::string::npos);
}

TEST(TraceDamageTest, NewerVersionIsRefusedWithAdvice) {
  Fixture fx = MakeTrace();
  const uint32_t newer = kFormatVersion + 1;
  std::memcpy(fx.bytes.data() + 8, &newer, 4);
  ReadResult res = ReadDamaged(fx, fx.bytes);
  EXPECT_EQ(res.open.code(), StatusCode::kUnsupportedVersion);
  EXPECT_NE(res.open.message().find("offset 8"), std::string::npos);
  EXPECT_NE(res.open.message().find("use a newer ddrr"), std::string::npos);
}

TEST(TraceDamageTest, DamagedHeader) {
  Fixture fx = MakeTrace();
  fx.bytes[kPreambleSize + 3] ^= 0x40;
  ReadResult res = ReadDamaged(fx, fx.bytes);
  EXPECT_EQ(res.open.code(), StatusCode::kCorruption);
  EXPECT_NE(res.open.message().find("header checksum mismatch"), std::string::npos);
}

TEST(TraceDamageTest, MissingFooterReadsEverythingByScanning) {
  Fixture fx = MakeTrace();
  ReadResult res = ReadDamaged(fx, fx.bytes.substr(0, fx.footer_offset));
  ASSERT_TRUE(res.open.ok());
  EXPECT_EQ(res.events, fx.events);
  ASSERT_EQ(res.problems.size(), 1u);
  EXPECT_NE(res.problems[0].message.find("no footer"), std::string::npos);
  EXPECT_EQ(res.problems[0].offset, fx.footer_offset);
}

TEST(TraceDamageTest, TruncatedInsideAFrameKeepsEveryEarlierFrame) {
  Fixture fx = MakeTrace();
  // Cut in the middle of frame k: frames 0..k-1 are intact.
  for (size_t k : {size_t{1}, fx.frame_offsets.size() / 2, fx.frame_offsets.size() - 1}) {
    SCOPED_TRACE(k);
    const uint64_t cut = fx.frame_offsets[k] + kFrameHeaderSize + 5;
    ReadResult res = ReadDamaged(fx, fx.bytes.substr(0, cut));
    ASSERT_TRUE(res.open.ok());
    uint64_t expected = 0;
    for (size_t i = 0; i < k; ++i) expected += fx.frame_counts[i];
    EXPECT_EQ(res.events, expected);
    ASSERT_EQ(res.problems.size(), 2u);  // no footer + truncated frame
    EXPECT_NE(res.problems[1].message.find("frame truncated"), std::string::npos);
    EXPECT_EQ(res.problems[1].offset, fx.frame_offsets[k]);
  }
}

TEST(TraceDamageTest, FlippedByteInAFrameSkipsOnlyThatFrame) {
  for (bool keep_footer : {true, false}) {
    SCOPED_TRACE(keep_footer ? "with footer" : "without footer");
    Fixture fx = MakeTrace();
    const size_t k = 3;
    std::string bytes = fx.bytes;
    bytes[fx.frame_offsets[k] + kFrameHeaderSize + 10] ^= 0x01;
    if (!keep_footer) bytes.resize(fx.footer_offset);
    ReadResult res = ReadDamaged(fx, bytes);
    ASSERT_TRUE(res.open.ok());
    EXPECT_EQ(res.events, fx.events - fx.frame_counts[k]);
    const TraceProblem* p = nullptr;
    for (const auto& pr : res.problems)
      if (pr.message.find("checksum mismatch") != std::string::npos) p = &pr;
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->offset, fx.frame_offsets[k]);
    EXPECT_NE(p->ToString().find("rank-0.ddrr: offset "), std::string::npos);
  }
}

TEST(TraceDamageTest, DamagedFrameMagicResynchronises) {
  Fixture fx = MakeTrace();
  std::string bytes = fx.bytes.substr(0, fx.footer_offset);
  bytes[fx.frame_offsets[2]] = 'Z';
  ReadResult res = ReadDamaged(fx, bytes);
  ASSERT_TRUE(res.open.ok());
  EXPECT_EQ(res.events, fx.events - fx.frame_counts[2]);
  bool saw = false;
  for (const auto& pr : res.problems)
    saw |=
        pr.message.find("bad frame magic") != std::string::npos && pr.offset == fx.frame_offsets[2];
  EXPECT_TRUE(saw);
}

TEST(TraceDamageTest, DamagedFooterFallsBackToScanning) {
  Fixture fx = MakeTrace();
  fx.bytes[fx.footer_offset + kFooterPrefixSize + 2] ^= 0x10;
  ReadResult res = ReadDamaged(fx, fx.bytes);
  ASSERT_TRUE(res.open.ok());
  EXPECT_EQ(res.events, fx.events);
  ASSERT_EQ(res.problems.size(), 1u);
  EXPECT_NE(res.problems[0].message.find("footer is damaged"), std::string::npos);
}

// Found by the fuzzer: a trailer whose footer offset is near 2^64 wrapped the bounds check.
TEST(TraceDamageTest, HugeFooterOffsetInTrailer) {
  for (uint64_t bad : {~uint64_t{0}, ~uint64_t{0} - 5, uint64_t{1} << 63}) {
    Fixture fx = MakeTrace();
    std::memcpy(fx.bytes.data() + fx.bytes.size() - kTrailerSize, &bad, 8);
    ReadResult res = ReadDamaged(fx, fx.bytes);
    ASSERT_TRUE(res.open.ok());
    EXPECT_EQ(res.events, fx.events);
    ASSERT_FALSE(res.problems.empty());
    EXPECT_NE(res.problems[0].message.find("footer offset is damaged"), std::string::npos);
  }
}

TEST(TraceDamageTest, FuzzerRegressionInputsAreSafe) {
  const std::string dir = std::string(DDRR_SOURCE_DIR) + "/tests/fuzz/regressions";
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    SCOPED_TRACE(e.path().string());
    ReadAll(e.path().string());  // must not crash (ASan/UBSan in the fuzz build)
    ++n;
  }
  EXPECT_GT(n, 0u);
}

TEST(TraceDamageTest, EveryPrefixOfTheFileIsSafe) {
  // Any truncation point: never crashes, never returns more than was written, and counts
  // only whole frames.
  Fixture fx = MakeTrace();
  for (size_t cut = 0; cut < fx.bytes.size(); cut += 97) {
    ReadResult res = ReadDamaged(fx, fx.bytes.substr(0, cut));
    if (!res.open.ok()) {
      EXPECT_LT(cut, fx.frame_offsets[0] + 1) << res.open.ToString();
      continue;
    }
    EXPECT_LE(res.events, fx.events);
    EXPECT_FALSE(res.problems.empty());
  }
}

}  // namespace
}  // namespace ddrr::trace
