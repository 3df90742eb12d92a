// Value: the plain data a Flight Recorder dump holds (dicts, lists, tuples, strings, numbers,
// None, bools), as read by the restricted pickle reader (pickle.h) or the JSON reader (json.h).
// Nothing else can be represented, so nothing else can be built from a dump.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ddrr::import {

struct Value {
  enum Kind : uint8_t { kNone, kBool, kInt, kFloat, kString, kList, kDict } kind = kNone;
  uint32_t depth = 0;  // containers: 1 + the deepest value they hold
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                              // kString (bytes kept as they are)
  std::vector<std::shared_ptr<Value>> items;  // kList (tuples too)
  std::vector<std::pair<std::shared_ptr<Value>, std::shared_ptr<Value>>> dict;  // kDict, in order

  // The value under string key `key` of a dict; nullptr when absent or not a dict.
  const Value* Get(std::string_view key) const {
    if (kind != kDict) return nullptr;
    for (const auto& [k, v] : dict)
      if (k->kind == kString && k->s == key) return v.get();
    return nullptr;
  }
  bool IsNumber() const { return kind == kInt || kind == kFloat || kind == kBool; }
  int64_t AsInt(int64_t fallback = 0) const {
    if (kind == kInt) return i;
    if (kind == kFloat)  // NaN and values out of range are not numbers a dump counts with
      return f >= -9.2e18 && f <= 9.2e18 ? static_cast<int64_t>(f) : fallback;
    if (kind == kBool) return b;
    return fallback;
  }
};

using ValuePtr = std::shared_ptr<Value>;

}  // namespace ddrr::import
