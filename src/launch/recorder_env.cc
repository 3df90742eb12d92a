#include "launch/recorder_env.h"

#include <cstdio>
#include <cstdlib>
#include <random>

namespace ddrr::launch {

EnvList RecorderEnv(const std::string& library, const std::string& out_dir,
                    const std::string& level) {
  std::string preload = library;
  if (const char* old = getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;
  std::random_device rd;
  char run_id[32];
  snprintf(run_id, sizeof(run_id), "%08x%08x", rd(), rd());
  return {{"LD_PRELOAD", preload},
          {"DDRR_OUT", out_dir},
          {"DDRR_RUN_ID", run_id},
          {"DDRR_LEVEL", level}};
}

}  // namespace ddrr::launch
