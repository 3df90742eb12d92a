// A restricted pickle reader: protocols 2 to 5, only the opcodes that build plain data (dicts,
// lists, tuples, strings, bytes, ints, floats, None, bools) and the memo. Any opcode that names
// or calls Python code (GLOBAL, STACK_GLOBAL, REDUCE, BUILD, INST, OBJ, NEWOBJ, PERSID, EXT*,
// ...) is refused: a pickle is read, never executed.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "import/value.h"

namespace ddrr::import {

// `what` names the input in errors ("dump rank0.pkl").
StatusOr<ValuePtr> ReadPickle(std::string_view bytes, const std::string& what);

}  // namespace ddrr::import
