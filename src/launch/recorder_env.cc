#include "launch/recorder_env.h"

#include <cstdio>
#include <cstdlib>
#include <random>

#include "common/params.h"

namespace ddrr::launch {

EnvList RecorderEnv(const std::string& library, const std::string& out_dir,
                    const std::string& level) {
  std::string preload = library;
  if (const char* old = getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;
  std::random_device rd;
  char run_id[32];
  snprintf(run_id, sizeof(run_id), "%08x%08x", rd(), rd());
  return {{"LD_PRELOAD", preload},
          {param::Name(param::kOut), out_dir},
          {param::Name(param::kRunId), run_id},
          {param::Name(param::kLevel), level}};
}

}  // namespace ddrr::launch
