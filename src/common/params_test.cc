#include "common/params.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <set>
#include <string>

namespace ddrr::param {
namespace {

// Sets one variable for the life of the test.
class ScopedEnv {
 public:
  ScopedEnv(Id id, const char* value) : name_(Name(id)) { setenv(name_, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

TEST(ParamsTest, EveryDeclaredDefaultParsesAsItsType) {
  std::set<std::string> names;
  for (int i = 0; i < kCount; ++i) {
    const Id id = static_cast<Id>(i);
    const Spec& spec = Get(id);
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name << " is declared twice";
    const std::string name = spec.name;
    EXPECT_TRUE(name.rfind("DDRR_", 0) == 0 || name.rfind("NCCL_", 0) == 0) << name;
    EXPECT_NE(*spec.effect, '\0') << spec.name;
    if (spec.default_value[0] == '`') continue;  // computed by the consumer
    const char* d = spec.default_value;
    const bool parses = spec.type == Type::kInt      ? ParseInt(id, d).ok()
                        : spec.type == Type::kReal   ? ParseReal(id, d).ok()
                        : spec.type == Type::kFlag   ? ParseFlag(id, d).ok()
                        : spec.type == Type::kChoice ? ParseChoice(id, d).ok()
                                                     : true;  // kText: any string
    EXPECT_TRUE(parses) << spec.name << "=" << d;
  }
}

TEST(ParamsTest, IntegersAreCheckedAgainstTheirRange) {
  EXPECT_EQ(ParseInt(kSpoolMb, "1").value(), 1);
  EXPECT_EQ(ParseInt(kSpoolMb, "65536").value(), 65536);
  for (const char* bad :
       {"0", "65537", "-1", "", " 5", "5 ", "5x", "x", "1e3", "+5", "99999999999999999999"}) {
    StatusOr<int64_t> v = ParseInt(kSpoolMb, bad);
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().message(),
              std::string("DDRR_SPOOL_MB=") + bad + " is not a size in MiB in [1, 65536]");
  }
}

TEST(ParamsTest, RealsFlagsAndChoices) {
  EXPECT_DOUBLE_EQ(ParseReal(kRunGrace, "2.5").value(), 2.5);
  EXPECT_DOUBLE_EQ(ParseReal(kRunGrace, "0").value(), 0.0);
  EXPECT_FALSE(ParseReal(kRunGrace, "-1").ok());
  EXPECT_FALSE(ParseReal(kRunGrace, "2s").ok());
  EXPECT_FALSE(ParseReal(kRunGrace, "nan").ok());
  EXPECT_FALSE(ParseReal(kEmuTimeout, "0").ok());

  EXPECT_TRUE(ParseFlag(kDisable, "1").value());
  EXPECT_TRUE(ParseFlag(kDisable, "yes").value());
  EXPECT_FALSE(ParseFlag(kDisable, "0").value());
  EXPECT_FALSE(ParseFlag(kDisable, "Off").value());
  EXPECT_EQ(ParseFlag(kDisable, "2").status().message(), "DDRR_DISABLE=2 is not 0 or 1");

  EXPECT_EQ(ParseChoice(kLevel, "metadata").value(), 0);
  EXPECT_EQ(ParseChoice(kLevel, "payloads").value(), 2);
  EXPECT_EQ(ParseChoice(kDebug, "trace").value(), 4);
  EXPECT_EQ(ParseChoice(kLevel, "everything").status().message(),
            "DDRR_LEVEL=everything is not metadata, digests or payloads");
  EXPECT_FALSE(ParseChoice(kLevel, "payload").ok());
  EXPECT_FALSE(ParseChoice(kLevel, "payloadss").ok());
}

TEST(ParamsTest, ReadsTheEnvironmentWithDefaultsAndFallbacks) {
  unsetenv(Name(kSpoolMb));
  EXPECT_EQ(Raw(kSpoolMb), nullptr);
  EXPECT_EQ(Int(kSpoolMb), 64);
  EXPECT_EQ(Int(kSpoolMb, 7), 7);
  EXPECT_EQ(CheckedInt(kSpoolMb, 9).value(), 9);
  {
    ScopedEnv env(kSpoolMb, "");
    EXPECT_EQ(Raw(kSpoolMb), nullptr);  // empty is unset
    EXPECT_EQ(Int(kSpoolMb), 64);
  }
  {
    ScopedEnv env(kSpoolMb, "128");
    EXPECT_EQ(Int(kSpoolMb), 128);
    EXPECT_EQ(CheckedInt(kSpoolMb, 9).value(), 128);
  }
  {
    ScopedEnv env(kSpoolMb, "lots");
    testing::internal::CaptureStderr();
    EXPECT_EQ(Int(kSpoolMb), 64);
    const std::string warning = testing::internal::GetCapturedStderr();
    EXPECT_NE(warning.find("DDRR_SPOOL_MB=lots is not a size in MiB in [1, 65536]; using 64"),
              std::string::npos)
        << warning;
    EXPECT_FALSE(CheckedInt(kSpoolMb, 9).ok());
  }
  {
    ScopedEnv env(kCompletions, "0");
    EXPECT_FALSE(Flag(kCompletions));
  }
  EXPECT_TRUE(Flag(kCompletions));
  {
    ScopedEnv env(kKernels, "full");
    EXPECT_EQ(Choice(kKernels), 1);
  }
  EXPECT_EQ(Text(kOut), "ddrr-run");
}

TEST(ParamsTest, TableHasOneRowPerVariable) {
  const std::string table = Table(/*markdown=*/true);
  for (const Spec& spec : All())
    EXPECT_NE(table.find(std::string("| `") + spec.name + "` |"), std::string::npos) << spec.name;
  size_t rows = 0;
  for (char c : table) rows += c == '\n';
  EXPECT_EQ(rows, All().size() + 2);  // header and rule
}

}  // namespace
}  // namespace ddrr::param
