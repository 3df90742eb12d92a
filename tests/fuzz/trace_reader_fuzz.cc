// Fuzzes RankFileReader and EventPrinter with arbitrary bytes: they must never crash, hang or
// read out of bounds, whatever the damage.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trace/event_printer.h"
#include "trace/trace_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto reader = ddrr::trace::RankFileReader::OpenMemory(
      "fuzz.ddrr", std::string_view(reinterpret_cast<const char*>(data), size));
  if (!reader.ok()) return 0;
  ddrr::trace::EventPrinter printer((*reader)->header().rank());
  ddrr::trace::Event ev;
  ddrr::trace::EventPosition pos;
  size_t n = 0;
  while ((*reader)->Next(&ev, &pos)) {
    (void)printer.Text(ev, pos);
    if (++n % 3 == 0) (void)printer.Json(ev, pos);
  }
  (*reader)->SeekToSeq(n / 2);
  while ((*reader)->Next(&ev, &pos)) {
  }
  return 0;
}
