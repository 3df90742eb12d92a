#include "common/params.h"

#include <strings.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "common/log.h"

namespace ddrr::param {
namespace {

constexpr Spec kSpecs[] = {
#define DDRR_PARAM_SPEC_(id, name, type, def, min, max, what, read_by, effect)  \
  {name, Type::type, def,   static_cast<double>(min), static_cast<double>(max), \
   what, read_by,    effect},
    DDRR_PARAM_LIST(DDRR_PARAM_SPEC_)
#undef DDRR_PARAM_SPEC_
};
static_assert(sizeof(kSpecs) / sizeof(kSpecs[0]) == kCount);

std::string Number(double v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.15g", v);
  return buf;
}

Status Bad(const Spec& spec, const char* text, const std::string& accepted) {
  return Status::InvalidArgument(std::string(spec.name) + "=" + text + " is not " + accepted);
}

std::string Range(const Spec& spec) {
  return std::string(spec.what) + " in [" + Number(spec.min) + ", " + Number(spec.max) + "]";
}

// "a, b or c" from "a|b|c".
std::string ChoiceList(const Spec& spec) {
  std::string_view all = spec.what;
  std::string out;
  size_t start = 0;
  while (start <= all.size()) {
    size_t bar = all.find('|', start);
    const bool last = bar == std::string_view::npos;
    if (!out.empty()) out += last ? " or " : ", ";
    out += all.substr(start, last ? std::string_view::npos : bar - start);
    if (last) break;
    start = bar + 1;
  }
  return out;
}

void WarnUsing(const Status& bad, const std::string& used) {
  DDRR_WARN("%s; using %s", bad.message().c_str(), used.c_str());
}

bool IsComputed(const char* default_value) { return default_value[0] == '`'; }

}  // namespace

std::span<const Spec> All() { return kSpecs; }
const Spec& Get(Id id) { return kSpecs[id]; }

const char* EnvValue(const char* name) {
  const char* v = getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

const char* Raw(Id id) { return EnvValue(Get(id).name); }

StatusOr<int64_t> ParseInt(Id id, const char* text) {
  const Spec& spec = Get(id);
  // Digits only (an optional minus sign): no blanks, no units, no trailing text.
  const char* digits = text[0] == '-' ? text + 1 : text;
  if (*digits >= '0' && *digits <= '9') {
    char* end = nullptr;
    errno = 0;
    const long long v = strtoll(text, &end, 10);
    if (errno == 0 && *end == '\0' && v >= spec.min && v <= spec.max) return int64_t{v};
  }
  return Bad(spec, text, Range(spec));
}

StatusOr<double> ParseReal(Id id, const char* text) {
  const Spec& spec = Get(id);
  char* end = nullptr;
  errno = 0;
  const double v = strtod(text, &end);
  if (end != text && *end == '\0' && errno == 0 && std::isfinite(v) && v >= spec.min &&
      v <= spec.max)
    return v;
  return Bad(spec, text, Range(spec));
}

StatusOr<bool> ParseFlag(Id id, const char* text) {
  static const char* const kFalse[] = {"0", "no", "off", "false"};
  static const char* const kTrue[] = {"1", "yes", "on", "true"};
  for (const char* f : kFalse)
    if (strcasecmp(text, f) == 0) return false;
  for (const char* t : kTrue)
    if (strcasecmp(text, t) == 0) return true;
  return Bad(Get(id), text, "0 or 1");
}

StatusOr<int> ParseChoice(Id id, const char* text) {
  const Spec& spec = Get(id);
  std::string_view all = spec.what;
  int index = 0;
  for (size_t start = 0;; ++index) {
    const size_t bar = all.find('|', start);
    const std::string_view choice =
        all.substr(start, bar == std::string_view::npos ? bar : bar - start);
    if (choice.size() == strlen(text) && strncasecmp(text, choice.data(), choice.size()) == 0)
      return index;
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return Bad(spec, text, ChoiceList(spec));
}

StatusOr<int64_t> CheckedInt(Id id, int64_t fallback) {
  const char* v = Raw(id);
  return v != nullptr ? ParseInt(id, v) : StatusOr<int64_t>(fallback);
}

StatusOr<bool> CheckedFlag(Id id, bool fallback) {
  const char* v = Raw(id);
  return v != nullptr ? ParseFlag(id, v) : StatusOr<bool>(fallback);
}

StatusOr<int64_t> CheckedInt(Id id) {
  return CheckedInt(id, ParseInt(id, Get(id).default_value).value());
}

StatusOr<int> CheckedChoice(Id id) {
  const char* v = Raw(id);
  return ParseChoice(id, v != nullptr ? v : Get(id).default_value);
}

int64_t Int(Id id, int64_t fallback) {
  StatusOr<int64_t> v = CheckedInt(id, fallback);
  if (v.ok()) return *v;
  WarnUsing(v.status(), std::to_string(fallback));
  return fallback;
}

int64_t Int(Id id) { return Int(id, ParseInt(id, Get(id).default_value).value()); }

double Real(Id id, double fallback) {
  const char* text = Raw(id);
  if (text == nullptr) return fallback;
  StatusOr<double> v = ParseReal(id, text);
  if (v.ok()) return *v;
  WarnUsing(v.status(), Number(fallback));
  return fallback;
}

double Real(Id id) { return Real(id, ParseReal(id, Get(id).default_value).value()); }

bool Flag(Id id) {
  const bool fallback = ParseFlag(id, Get(id).default_value).value();
  StatusOr<bool> v = CheckedFlag(id, fallback);
  if (v.ok()) return *v;
  WarnUsing(v.status(), Get(id).default_value);
  return fallback;
}

int Choice(Id id) {
  StatusOr<int> v = CheckedChoice(id);
  if (v.ok()) return *v;
  WarnUsing(v.status(), Get(id).default_value);
  return ParseChoice(id, Get(id).default_value).value();
}

std::string Text(Id id) {
  const char* v = Raw(id);
  return v != nullptr ? v : Get(id).default_value;
}

std::string Table(bool markdown) {
  std::string out;
  if (markdown) out = "| variable | read by | effect | default |\n|---|---|---|---|\n";
  for (const Spec& spec : kSpecs) {
    std::string accepts;
    if (spec.type == Type::kChoice) {
      accepts = ChoiceList(spec);
    } else if (spec.type == Type::kInt || spec.type == Type::kReal) {
      accepts = Range(spec);
    } else if (spec.type == Type::kFlag) {
      accepts = "0 or 1";
    }
    std::string def = spec.default_value;
    if (!IsComputed(spec.default_value)) def = "`" + def + "`";
    if (markdown) {
      std::string effect = spec.effect;
      if (!accepts.empty()) effect += "; " + accepts;
      out += "| `" + std::string(spec.name) + "` | " + spec.read_by + " | " + effect + " | " + def +
             " |\n";
    } else {
      out += std::string(spec.name) + "  (" + spec.read_by + "; default " + def + ")\n    " +
             spec.effect + (accepts.empty() ? "" : "; " + accepts) + "\n";
    }
  }
  return out;
}

}  // namespace ddrr::param
