#include "launch/recorder_env.h"

#include <cstdio>
#include <cstdlib>
#include <random>

#include "common/params.h"

namespace ddrr::launch {

EnvList RecorderEnv(const std::string& library, const std::string& out_dir,
                    const std::string& level, RunId run_id) {
  std::string preload = library;
  if (const char* old = getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;
  std::string id;
  if (const char* given = param::Raw(param::kRunId); given && run_id == RunId::kInheritOrFresh)
    id = given;
  if (id.empty()) {
    std::random_device rd;
    char fresh[32];
    snprintf(fresh, sizeof(fresh), "%08x%08x", rd(), rd());
    id = fresh;
  }
  return {{"LD_PRELOAD", preload},
          {param::Name(param::kOut), out_dir},
          {param::Name(param::kRunId), id},
          {param::Name(param::kLevel), level}};
}

}  // namespace ddrr::launch
