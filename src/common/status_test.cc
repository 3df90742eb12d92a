#include "common/status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace ddrr {
namespace {

TEST(StatusTest, DefaultIsOkAndCarriesNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, NamedConstructorsKeepCodeAndMessage) {
  Status s = Status::Corruption("rank-0.ddrr: offset 12: bad magic");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.ToString(), "Corruption: rank-0.ddrr: offset 12: bad magic");
}

TEST(StatusTest, FromErrnoNamesTheOperation) {
  Status s = Status::FromErrno("open /x", ENOENT);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("open /x"), std::string::npos);
  EXPECT_NE(s.message().find("No such file"), std::string::npos);
}

StatusOr<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

Status UseHalf(int x, int* out) {
  DDRR_ASSIGN_OR_RETURN(*out, Half(x));
  return Status::Ok();
}

TEST(StatusOrTest, AssignOrReturnPropagatesError) {
  int v = -1;
  EXPECT_TRUE(UseHalf(8, &v).ok());
  EXPECT_EQ(v, 4);
  Status s = UseHalf(3, &v);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(v, 4);
}

}  // namespace
}  // namespace ddrr
