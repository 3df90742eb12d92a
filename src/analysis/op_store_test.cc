#include "analysis/op_store.h"

#include <gtest/gtest.h>

namespace ddrr::analysis {
namespace {

OpRecord Rec(uint64_t seq) {
  OpRecord r;
  r.seq = seq;
  r.count = seq * 3;
  r.op_seq = static_cast<uint32_t>(seq);
  return r;
}

TEST(OpStoreTest, InterleavedStreamsReadBackInOrderAcrossChunks) {
  auto store = OpStore::Create();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  OpStore& s = **store;
  const auto a = s.NewStream(), b = s.NewStream(), empty = s.NewStream();
  // More than a chunk each, interleaved, with flushes in between (as ranks are scanned).
  for (uint64_t i = 1; i <= 1500; ++i) {
    ASSERT_TRUE(s.Append(a, Rec(i)).ok());
    if (i % 3 == 0) {
      ASSERT_TRUE(s.Append(b, Rec(100000 + i)).ok());
    }
    if (i == 700) {
      ASSERT_TRUE(s.Flush(a).ok());
    }
  }
  ASSERT_TRUE(s.Flush(a).ok());
  ASSERT_TRUE(s.Flush(b).ok());
  EXPECT_EQ(s.size(a), 1500u);
  EXPECT_EQ(s.size(b), 500u);
  EXPECT_EQ(s.bytes_written(), 2000u * sizeof(OpRecord));
  auto ca = s.Read(a);
  OpRecord r;
  for (uint64_t i = 1; i <= 1500; ++i) {
    ASSERT_TRUE(ca.Next(&r)) << i;
    ASSERT_EQ(r.seq, i);
    ASSERT_EQ(r.count, i * 3);
  }
  EXPECT_FALSE(ca.Next(&r));
  auto cb = s.Read(b);
  uint64_t n = 0;
  while (cb.Next(&r)) {
    ++n;
    ASSERT_EQ(r.seq, 100000 + 3 * n);
  }
  EXPECT_EQ(n, 500u);
  EXPECT_TRUE(cb.status().ok());
  auto ce = s.Read(empty);
  EXPECT_FALSE(ce.Next(&r));
}

TEST(OpStoreTest, OneStreamWrittenAloneIsOneChunk) {
  auto store = OpStore::Create();
  ASSERT_TRUE(store.ok());
  OpStore& s = **store;
  const auto a = s.NewStream();
  for (uint64_t i = 1; i <= 5000; ++i) ASSERT_TRUE(s.Append(a, Rec(i)).ok());
  ASSERT_TRUE(s.Flush(a).ok());
  EXPECT_EQ(s.chunks(a), 1u);
  // Read back across the read buffer's boundaries of one long chunk.
  auto c = s.Read(a);
  OpRecord r;
  uint64_t n = 0;
  while (c.Next(&r)) ASSERT_EQ(r.seq, ++n);
  EXPECT_EQ(n, 5000u);
}

TEST(OpStoreTest, UnwritableDirectoryIsAnError) {
  auto store = OpStore::Create("/proc/ddrr-no-such-dir");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("TMPDIR"), std::string::npos);
}

}  // namespace
}  // namespace ddrr::analysis
