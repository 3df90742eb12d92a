// A small JSON reader into Value (the JSON variant of Flight Recorder dumps). Numbers without
// a fraction or exponent that fit in 64 bits are integers.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "import/value.h"

namespace ddrr::import {

StatusOr<ValuePtr> ReadJson(std::string_view text, const std::string& what);

}  // namespace ddrr::import
