#include "trace/event_printer.h"

#include <gtest/gtest.h>

#include "spec/api_table.h"

namespace ddrr::trace {
namespace {

Event Kernels(uint64_t stream) {
  Event ev;
  ev.mutable_kernels()->set_stream(stream);
  ev.mutable_kernels()->set_count(1);
  return ev;
}

// A windowed dump observes the events before the window: a stream first seen in a kernel count
// there must keep its number.
TEST(EventPrinterTest, ObservedKernelCountsNumberTheirStream) {
  EventPrinter printer(0);
  printer.Observe(Kernels(0x7000));
  EXPECT_NE(printer.Text(Kernels(0x9000), {}).find("kernels stream2 count 1"), std::string::npos);
  EXPECT_NE(printer.Text(Kernels(0x7000), {}).find("kernels stream1 count 1"), std::string::npos);
}

Event EntropyFrom(EntropySource source) {
  Event ev;
  ev.mutable_entropy()->set_source(source);
  ev.mutable_entropy()->set_data("abc");
  return ev;
}

TEST(EventPrinterTest, EntropySourcesPrintByName) {
  const std::pair<EntropySource, std::string> names[] = {
      {ENTROPY_GETRANDOM, "getrandom"},
      {ENTROPY_GETENTROPY, "getentropy"},
      {ENTROPY_DEV_URANDOM, "/dev/urandom"},
      {ENTROPY_DEV_RANDOM, "/dev/random"},
      {ENTROPY_RANDOM_DEVICE, "std::random_device"},
      {ENTROPY_SYSCALL_GETRANDOM, "syscall(getrandom)"},
      {ENTROPY_ARC4RANDOM, "arc4random"},
      {static_cast<EntropySource>(42), "entropy"},  // from a newer recorder
  };
  EventPrinter printer(0);
  for (const auto& [source, name] : names) {
    SCOPED_TRACE(name);
    EXPECT_NE(printer.Text(EntropyFrom(source), {}).find("entropy " + name + " 3 bytes 616263"),
              std::string::npos);
    EXPECT_NE(printer.Json(EntropyFrom(source), {}).find("\"source\":\"" + name + "\""),
              std::string::npos);
  }
}

// A call a thread was inside when the rank was last read names its function by its FunctionId.
TEST(EventPrinterTest, CallEnterNamesItsFunction) {
  Event ev;
  ev.mutable_enter()->set_fn(static_cast<uint32_t>(FunctionId::kNcclAllReduce));
  ev.mutable_enter()->set_comm_handle(0x5000);
  EventPrinter printer(0);
  EXPECT_NE(printer.Text(ev, {}).find("inside ncclAllReduce(comm=comm1) (not returned"),
            std::string::npos);
  // JSON: the function's name alone, as a call's, and the communicator beside it.
  EXPECT_NE(printer.Json(ev, {}).find(R"("type":"enter","fn":"ncclAllReduce","comm":"comm1"})"),
            std::string::npos)
      << printer.Json(ev, {});
  ev.mutable_enter()->set_fn(9999);
  EXPECT_NE(printer.Text(ev, {}).find("inside function#9999(comm=comm1)"), std::string::npos);
  ev.mutable_enter()->set_fn(static_cast<uint32_t>(FunctionId::kNcclCommInitRank));
  ev.mutable_enter()->set_comm_handle(0);
  ev.mutable_enter()->set_detail(4);
  EXPECT_NE(printer.Text(ev, {}).find("inside ncclCommInitRank(nranks=4)"), std::string::npos);
  EXPECT_NE(printer.Json(ev, {}).find(R"("fn":"ncclCommInitRank","nranks":4})"), std::string::npos)
      << printer.Json(ev, {});
}

}  // namespace
}  // namespace ddrr::trace
