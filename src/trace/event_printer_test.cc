#include "trace/event_printer.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ddrr::trace
