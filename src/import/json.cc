#include "import/json.h"

#include <charconv>
#include <cstdlib>

namespace ddrr::import {
namespace {

class Parser {
 public:
  Parser(std::string_view t, const std::string& what) : t_(t), what_(what) {}

  StatusOr<ValuePtr> Run() {
    DDRR_ASSIGN_OR_RETURN(ValuePtr v, Parse(0));
    Skip();
    if (p_ != t_.size()) return Bad("text after the value");
    return v;
  }

 private:
  Status Bad(const std::string& why) {
    return Status::InvalidArgument(what_ + " is not readable JSON: " + why + " at byte " +
                                   std::to_string(p_) + "; pass an unmodified dump");
  }
  void Skip() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\n' || t_[p_] == '\r' || t_[p_] == '\t'))
      ++p_;
  }
  // Skips white space, then consumes `ch` if it comes next.
  bool Eat(char ch) {
    Skip();
    if (p_ >= t_.size() || t_[p_] != ch) return false;
    ++p_;
    return true;
  }
  bool Lit(std::string_view w) {
    if (t_.substr(p_, w.size()) != w) return false;
    p_ += w.size();
    return true;
  }
  static ValuePtr Make(Value::Kind k) {
    auto v = std::make_shared<Value>();
    v->kind = k;
    return v;
  }
  static void Utf8(std::string& out, uint32_t c) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xc0 | c >> 6);
      out += static_cast<char>(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xe0 | c >> 12);
      out += static_cast<char>(0x80 | (c >> 6 & 0x3f));
      out += static_cast<char>(0x80 | (c & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | c >> 18);
      out += static_cast<char>(0x80 | (c >> 12 & 0x3f));
      out += static_cast<char>(0x80 | (c >> 6 & 0x3f));
      out += static_cast<char>(0x80 | (c & 0x3f));
    }
  }
  StatusOr<std::string> String() {
    ++p_;  // opening quote
    std::string s;
    while (true) {
      if (p_ >= t_.size()) return Bad("unterminated string");
      const char c = t_[p_++];
      if (c == '"') return s;
      if (c != '\\') {
        s += c;
        continue;
      }
      if (p_ >= t_.size()) return Bad("unterminated escape");
      const char e = t_[p_++];
      switch (e) {
        case 'n':
          s += '\n';
          break;
        case 't':
          s += '\t';
          break;
        case 'r':
          s += '\r';
          break;
        case 'b':
          s += '\b';
          break;
        case 'f':
          s += '\f';
          break;
        case 'u': {
          if (t_.size() - p_ < 4) return Bad("short \\u escape");
          uint32_t c16 = 0;
          auto r = std::from_chars(t_.data() + p_, t_.data() + p_ + 4, c16, 16);
          if (r.ec != std::errc() || r.ptr != t_.data() + p_ + 4) return Bad("bad \\u escape");
          p_ += 4;
          Utf8(s, c16);
          break;
        }
        default:
          s += e;
      }
    }
  }
  StatusOr<ValuePtr> Parse(int depth) {
    if (depth > 64) return Bad("nested deeper than 64");
    Skip();
    if (p_ >= t_.size()) return Bad("unexpected end");
    const char c = t_[p_];
    if (c == '{') {
      ++p_;
      auto d = Make(Value::kDict);
      if (Eat('}')) return d;
      while (true) {
        Skip();
        if (p_ >= t_.size() || t_[p_] != '"') return Bad("expected a key");
        auto k = Make(Value::kString);
        DDRR_ASSIGN_OR_RETURN(k->s, String());
        if (!Eat(':')) return Bad("expected ':'");
        DDRR_ASSIGN_OR_RETURN(ValuePtr v, Parse(depth + 1));
        d->dict.emplace_back(std::move(k), std::move(v));
        if (Eat(',')) continue;
        if (Eat('}')) return d;
        return Bad("expected ',' or '}'");
      }
    }
    if (c == '[') {
      ++p_;
      auto l = Make(Value::kList);
      if (Eat(']')) return l;
      while (true) {
        DDRR_ASSIGN_OR_RETURN(ValuePtr v, Parse(depth + 1));
        l->items.push_back(std::move(v));
        if (Eat(',')) continue;
        if (Eat(']')) return l;
        return Bad("expected ',' or ']'");
      }
    }
    if (c == '"') {
      auto v = Make(Value::kString);
      DDRR_ASSIGN_OR_RETURN(v->s, String());
      return v;
    }
    if (Lit("null")) return Make(Value::kNone);
    if (Lit("true") || Lit("false")) {
      auto v = Make(Value::kBool);
      v->b = t_[p_ - 1] == 'e' && t_[p_ - 2] == 'u';
      return v;
    }
    size_t e = p_;
    bool fraction = false;
    while (e < t_.size() && (isdigit(static_cast<unsigned char>(t_[e])) || t_[e] == '-' ||
                             t_[e] == '+' || t_[e] == '.' || t_[e] == 'e' || t_[e] == 'E')) {
      fraction |= t_[e] == '.' || t_[e] == 'e' || t_[e] == 'E';
      ++e;
    }
    if (e == p_) return Bad("unexpected character");
    const std::string_view num = t_.substr(p_, e - p_);
    int64_t i = 0;
    auto r = std::from_chars(num.data(), num.data() + num.size(), i);
    ValuePtr v;
    if (!fraction && r.ec == std::errc() && r.ptr == num.data() + num.size()) {
      v = Make(Value::kInt);
      v->i = i;
    } else {
      v = Make(Value::kFloat);
      v->f = strtod(std::string(num).c_str(), nullptr);
    }
    p_ = e;
    return v;
  }

  std::string_view t_;
  const std::string& what_;
  size_t p_ = 0;
};

}  // namespace

StatusOr<ValuePtr> ReadJson(std::string_view text, const std::string& what) {
  return Parser(text, what).Run();
}

}  // namespace ddrr::import
