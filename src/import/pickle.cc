#include "import/pickle.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace ddrr::import {
namespace {

constexpr uint32_t kMaxDepth = 1000;

// Opcodes that make code run or name Python objects; named in the refusal.
const char* Forbidden(uint8_t op) {
  switch (op) {
    case 'c':
      return "GLOBAL";
    case 0x93:
      return "STACK_GLOBAL";
    case 'R':
      return "REDUCE";
    case 'b':
      return "BUILD";
    case 'i':
      return "INST";
    case 'o':
      return "OBJ";
    case 0x81:
      return "NEWOBJ";
    case 0x92:
      return "NEWOBJ_EX";
    case 'P':
      return "PERSID";
    case 'Q':
      return "BINPERSID";
    case 0x82:
      return "EXT1";
    case 0x83:
      return "EXT2";
    case 0x84:
      return "EXT4";
    case 0x97:
      return "NEXT_BUFFER";
    case 0x98:
      return "READONLY_BUFFER";
  }
  return nullptr;
}

class Reader {
 public:
  Reader(std::string_view b, const std::string& what) : b_(b), what_(what) {}

  StatusOr<ValuePtr> Run() {
    while (true) {
      if (pos_ >= b_.size()) return Bad("ends before its STOP opcode (truncated?)");
      const size_t at = pos_;
      const uint8_t op = static_cast<uint8_t>(b_[pos_++]);
      if (const char* name = Forbidden(op))
        return Status::InvalidArgument(what_ + " is a pickle that would run code (opcode " + name +
                                       " at byte " + std::to_string(at) +
                                       "); refused: a Flight Recorder dump holds plain data only");
      Status s = Step(op, at);
      if (!s.ok()) return s;
      if (done_) {
        if (stack_.size() != 1)
          return Bad("STOP with " + std::to_string(stack_.size()) + " values on the stack");
        return stack_[0];
      }
    }
  }

 private:
  Status Bad(const std::string& why) {
    return Status::InvalidArgument(what_ + " is not a readable pickle: " + why +
                                   "; pass an unmodified Flight Recorder dump");
  }
  bool Need(size_t n) { return b_.size() - pos_ >= n; }
  uint64_t Le(size_t n) {
    uint64_t v = 0;
    for (size_t k = 0; k < n; ++k) v |= uint64_t(static_cast<uint8_t>(b_[pos_ + k])) << (8 * k);
    pos_ += n;
    return v;
  }
  static ValuePtr Make(Value::Kind k) {
    auto v = std::make_shared<Value>();
    v->kind = k;
    return v;
  }
  Status Push(ValuePtr v) {
    if (stack_.size() > (1u << 22)) return Bad("stack too deep");
    stack_.push_back(std::move(v));
    return Status::Ok();
  }
  StatusOr<ValuePtr> Pop() {
    if (stack_.size() <= Floor()) return Bad("pops an empty stack");
    ValuePtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  size_t Floor() const { return marks_.empty() ? 0 : marks_.back(); }
  StatusOr<size_t> PopMark() {
    if (marks_.empty()) return Bad("no MARK for an opcode that needs one");
    const size_t m = marks_.back();
    marks_.pop_back();
    return m;
  }
  Status Str(size_t n) {
    if (!Need(n)) return Bad("string runs past the end");
    auto v = Make(Value::kString);
    v->s.assign(b_.data() + pos_, n);
    pos_ += n;
    return Push(std::move(v));
  }
  Status Int(int64_t i) {
    auto v = Make(Value::kInt);
    v->i = i;
    return Push(std::move(v));
  }
  // The memo is indexed densely (MEMOIZE numbers entries 0, 1, 2, ...).
  Status Memo(uint64_t idx) {
    if (stack_.empty()) return Bad("memoizes an empty stack");
    if (idx >= (1u << 26)) return Bad("memo index " + std::to_string(idx) + " out of range");
    if (idx >= memo_.size()) memo_.resize(idx + 1);
    memo_[idx] = stack_.back();
    return Status::Ok();
  }
  Status Get(uint64_t idx) {
    if (idx >= memo_.size() || !memo_[idx])
      return Bad("reads memo " + std::to_string(idx) + " never written");
    return Push(memo_[idx]);
  }
  // A container holding `child`: deeper by one. Nesting is bounded so that freeing the values
  // (recursive) cannot exhaust the stack.
  Status Nest(Value& container, const Value& child) {
    container.depth = std::max(container.depth, child.depth + 1);
    if (container.depth > kMaxDepth) return Bad("values nested deeper than 1000");
    return Status::Ok();
  }
  // The container sits just below `from` and, like the items, above the innermost MARK.
  Status SetItems(size_t from) {
    if (from == 0 || from - 1 < Floor() || stack_.size() < from || (stack_.size() - from) % 2)
      return Bad("SETITEMS without a dict and key/value pairs");
    ValuePtr& d = stack_[from - 1];
    if (d->kind != Value::kDict) return Bad("SETITEM on something not a dict");
    for (size_t k = from; k < stack_.size(); k += 2) {
      DDRR_RETURN_IF_ERROR(Nest(*d, *stack_[k + 1]));
      d->dict.emplace_back(stack_[k], stack_[k + 1]);
    }
    stack_.resize(from);
    return Status::Ok();
  }
  Status Appends(size_t from) {
    if (from == 0 || from - 1 < Floor() || stack_.size() < from)
      return Bad("APPENDS without a list");
    ValuePtr& l = stack_[from - 1];
    if (l->kind != Value::kList) return Bad("APPEND on something not a list");
    for (size_t k = from; k < stack_.size(); ++k) {
      DDRR_RETURN_IF_ERROR(Nest(*l, *stack_[k]));
      l->items.push_back(stack_[k]);
    }
    stack_.resize(from);
    return Status::Ok();
  }
  Status Tuple(size_t from) {
    if (from < Floor() || from > stack_.size()) return Bad("TUPLE across a MARK");
    auto t = Make(Value::kList);
    for (size_t k = from; k < stack_.size(); ++k) DDRR_RETURN_IF_ERROR(Nest(*t, *stack_[k]));
    t->items.assign(stack_.begin() + from, stack_.end());
    stack_.resize(from);
    return Push(std::move(t));
  }

  Status Step(uint8_t op, size_t at) {
    switch (op) {
      case 0x80:  // PROTO
        if (!Need(1)) return Bad("truncated PROTO");
        if (static_cast<uint8_t>(b_[pos_]) > 5) return Bad("protocol newer than 5");
        ++pos_;
        return Status::Ok();
      case 0x95:  // FRAME: a length only
        if (!Need(8)) return Bad("truncated FRAME");
        pos_ += 8;
        return Status::Ok();
      case '.':  // STOP
        done_ = true;
        return Status::Ok();
      case '}':
        return Push(Make(Value::kDict));
      case ']':
        return Push(Make(Value::kList));
      case ')':
        return Push(Make(Value::kList));
      case 'N':
        return Push(Make(Value::kNone));
      case 0x88:
      case 0x89: {
        auto v = Make(Value::kBool);
        v->b = op == 0x88;
        return Push(std::move(v));
      }
      case '(':  // MARK
        marks_.push_back(stack_.size());
        return Status::Ok();
      case '0':  // POP
        return Pop().status();
      case '1': {  // POP_MARK
        DDRR_ASSIGN_OR_RETURN(size_t m, PopMark());
        stack_.resize(m);
        return Status::Ok();
      }
      case '2':  // DUP
        if (stack_.size() <= Floor()) return Bad("DUP on an empty stack");
        return Push(stack_.back());
      case 's':
        return SetItems(stack_.size() - 2 > stack_.size() ? 0 : stack_.size() - 2);
      case 'u': {
        DDRR_ASSIGN_OR_RETURN(size_t m, PopMark());
        return SetItems(m);
      }
      case 'a':
        return Appends(stack_.empty() ? 0 : stack_.size() - 1);
      case 'e': {
        DDRR_ASSIGN_OR_RETURN(size_t m, PopMark());
        return Appends(m);
      }
      case 'd': {  // DICT from mark
        DDRR_ASSIGN_OR_RETURN(size_t m, PopMark());
        if ((stack_.size() - m) % 2) return Bad("DICT with an odd number of items");
        auto d = Make(Value::kDict);
        for (size_t k = m; k < stack_.size(); k += 2) {
          DDRR_RETURN_IF_ERROR(Nest(*d, *stack_[k + 1]));
          d->dict.emplace_back(stack_[k], stack_[k + 1]);
        }
        stack_.resize(m);
        return Push(std::move(d));
      }
      case 'l': {  // LIST from mark
        DDRR_ASSIGN_OR_RETURN(size_t m, PopMark());
        return Tuple(m);
      }
      case 't': {
        DDRR_ASSIGN_OR_RETURN(size_t m, PopMark());
        return Tuple(m);
      }
      case 0x85:
      case 0x86:
      case 0x87: {
        const size_t n = op - 0x84;
        if (stack_.size() < Floor() + n) return Bad("TUPLE" + std::to_string(n) + " short");
        return Tuple(stack_.size() - n);
      }
      case 'J':
        if (!Need(4)) return Bad("truncated BININT");
        return Int(static_cast<int32_t>(Le(4)));
      case 'K':
        if (!Need(1)) return Bad("truncated BININT1");
        return Int(static_cast<int64_t>(Le(1)));
      case 'M':
        if (!Need(2)) return Bad("truncated BININT2");
        return Int(static_cast<int64_t>(Le(2)));
      case 0x8a:
      case 0x8b: {  // LONG1, LONG4: little-endian two's complement
        const size_t lw = op == 0x8a ? 1 : 4;
        if (!Need(lw)) return Bad("truncated LONG");
        const uint64_t n = Le(lw);
        if (n > 8 || !Need(n))
          return Bad("integer wider than 64 bits at byte " + std::to_string(at));
        uint64_t v = n ? Le(n) : 0;
        if (n && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t(0) << (8 * n);
        return Int(static_cast<int64_t>(v));
      }
      case 'G': {  // BINFLOAT, big-endian
        if (!Need(8)) return Bad("truncated BINFLOAT");
        uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) bits = bits << 8 | static_cast<uint8_t>(b_[pos_ + k]);
        pos_ += 8;
        auto v = Make(Value::kFloat);
        memcpy(&v->f, &bits, 8);
        return Push(std::move(v));
      }
      case 0x8c:  // SHORT_BINUNICODE
      case 'C':   // SHORT_BINBYTES
      case 'U':   // SHORT_BINSTRING
        if (!Need(1)) return Bad("truncated string");
        return Str(Le(1));
      case 'X':  // BINUNICODE
      case 'B':  // BINBYTES
      case 'T':  // BINSTRING
        if (!Need(4)) return Bad("truncated string");
        return Str(Le(4));
      case 0x8d:  // BINUNICODE8
      case 0x8e:  // BINBYTES8
        if (!Need(8)) return Bad("truncated string");
        return Str(Le(8));
      case 0x94:
        return Memo(memo_.size());  // MEMOIZE
      case 'q':
        if (!Need(1)) return Bad("truncated BINPUT");
        return Memo(Le(1));
      case 'r':
        if (!Need(4)) return Bad("truncated LONG_BINPUT");
        return Memo(Le(4));
      case 'h':
        if (!Need(1)) return Bad("truncated BINGET");
        return Get(Le(1));
      case 'j':
        if (!Need(4)) return Bad("truncated LONG_BINGET");
        return Get(Le(4));
    }
    char hex[8];
    snprintf(hex, sizeof(hex), "0x%02x", op);
    return Status::InvalidArgument(what_ + " holds pickle opcode " + hex + " at byte " +
                                   std::to_string(at) +
                                   ", which ddrr does not read (plain data only); refused");
  }

  std::string_view b_;
  const std::string& what_;
  size_t pos_ = 0;
  bool done_ = false;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::vector<ValuePtr> memo_;
};

}  // namespace

StatusOr<ValuePtr> ReadPickle(std::string_view bytes, const std::string& what) {
  return Reader(bytes, what).Run();
}

}  // namespace ddrr::import
