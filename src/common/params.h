// DDRR_* environment parameters (NCCL's param.h in spirit): each variable is declared once in
// common/param_list.h with its type, default, range and a one-line description; this reads
// and checks them alike everywhere. A bad value is one warning line naming the variable and
// what it accepts, and the default is used; consumers that must refuse a bad value instead
// (the recorder runs the job unrecorded) use the Checked* forms.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/param_list.h"
#include "common/status.h"

namespace ddrr::param {

enum class Type { kText, kInt, kReal, kFlag, kChoice };

enum Id : int {
#define DDRR_PARAM_ID_(id, ...) k##id,
  DDRR_PARAM_LIST(DDRR_PARAM_ID_)
#undef DDRR_PARAM_ID_
      kCount
};

struct Spec {
  const char* name;  // "DDRR_OUT"
  Type type;
  const char* default_value;  // in backquotes: a description, the consumer computes the value
  double min, max;            // kInt, kReal
  const char* what;           // kInt, kReal: noun of the warning; kChoice: "a|b|c"
  const char* read_by;
  const char* effect;
};

std::span<const Spec> All();
const Spec& Get(Id id);
inline const char* Name(Id id) { return Get(id).name; }

// The variable's value; nullptr when it is unset or empty.
const char* Raw(Id id);
// The same for any variable, a launcher's (RANK, LOCAL_RANK) included.
const char* EnvValue(const char* name);

// Parses `text` as parameter `id`'s type (the one validation every reader shares). The error
// names the variable and what it accepts, e.g. "DDRR_SPOOL_MB=x is not a size in MiB in
// [1, 65536]". kChoice yields the index of the value in the choices.
StatusOr<int64_t> ParseInt(Id id, const char* text);
StatusOr<double> ParseReal(Id id, const char* text);
StatusOr<bool> ParseFlag(Id id, const char* text);
StatusOr<int> ParseChoice(Id id, const char* text);

// The environment's value, `fallback` (else the declared default) when unset, an error when bad.
StatusOr<int64_t> CheckedInt(Id id, int64_t fallback);
StatusOr<int64_t> CheckedInt(Id id);
StatusOr<bool> CheckedFlag(Id id, bool fallback);
StatusOr<int> CheckedChoice(Id id);

// The environment's value; on a bad one, one warning line and the fallback. Without a fallback,
// the declared default.
int64_t Int(Id id);
int64_t Int(Id id, int64_t fallback);
double Real(Id id);
double Real(Id id, double fallback);
bool Flag(Id id);
int Choice(Id id);
std::string Text(Id id);  // the value, else the declared default

// The README's environment table (Markdown) or a plain listing, from the list.
std::string Table(bool markdown);

}  // namespace ddrr::param
