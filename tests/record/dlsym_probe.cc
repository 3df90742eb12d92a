// dlsym_probe COPY_OF_LIBNCCL: what dlsym answers, one "<lookup> <object>" line per lookup, the
// object being the file the address lies in ("null" when dlsym failed, then whether dlerror()
// names the symbol). Run plain and with libddrr.so preloaded (dlsym_test.sh): only the lookups of
// names libddrr wraps may differ, by answering libddrr.so. It is linked against
// libdlsym_probe_a (which needs b); it dlopens c (which needs d), NCCL, the CUDA runtime and
// cuRAND with RTLD_LOCAL, and COPY, a second copy of libnccl.so.2 under another name.
#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <string>

extern "C" void* dlsym_probe_lookup(int next, const char* name);  // in libdlsym_probe_a

namespace {

using LookupFn = void* (*)(int, const char*);

std::string ObjectOf(const void* p) {
  Dl_info info{};
  if (!dladdr(p, &info) || info.dli_fname == nullptr) return "unknown";
  const char* slash = strrchr(info.dli_fname, '/');
  return slash ? slash + 1 : info.dli_fname;
}

// Reads dlerror(), so call it right after the lookup.
void* Report(const char* what, const char* name, void* p) {
  if (p != nullptr) {
    printf("%s %s %s\n", what, name, ObjectOf(p).c_str());
  } else {
    const char* error = dlerror();
    printf("%s %s null %s\n", what, name,
           error && strstr(error, name) ? "dlerror-names-it" : "dlerror-missing");
  }
  return p;
}

void* Open(const char* path) {
  void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) fprintf(stderr, "dlsym_probe: cannot load %s: %s\n", path, dlerror());
  return handle;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: dlsym_probe COPY_OF_LIBNCCL\n");
    return 2;
  }
  // From a library loaded at start-up, after libddrr in the global scope.
  Report("next_from_a", "dlsym_probe_which", dlsym_probe_lookup(1, "dlsym_probe_which"));
  Report("next_from_a", "getpid", dlsym_probe_lookup(1, "getpid"));
  // From the executable, before libddrr: RTLD_NEXT reaches libddrr's wrapper.
  Report("next_from_main", "ncclGetVersion", dlsym(RTLD_NEXT, "ncclGetVersion"));
  Report("default_from_main", "ncclGetVersion", dlsym(RTLD_DEFAULT, "ncclGetVersion"));

  // From c, loaded RTLD_LOCAL: its dependency group is its scope, libc (loaded before c) included.
  void* c = Open("libdlsym_probe_c.so");
  auto c_lookup = reinterpret_cast<LookupFn>(c ? dlsym(c, "dlsym_probe_lookup") : nullptr);
  if (c_lookup == nullptr) return 1;
  Report("next_from_c", "dlsym_probe_which", c_lookup(1, "dlsym_probe_which"));
  Report("next_from_c", "getpid", c_lookup(1, "getpid"));
  Report("default_from_c", "dlsym_probe_only_d", c_lookup(0, "dlsym_probe_only_d"));
  Report("default_from_main", "dlsym_probe_only_d", dlsym(RTLD_DEFAULT, "dlsym_probe_only_d"));
  Report("default_from_main", "no_such_symbol_ddrr", dlsym(RTLD_DEFAULT, "no_such_symbol_ddrr"));

  void* nccl = Open("libnccl.so.2");
  if (nccl == nullptr) return 1;
  // A failed lookup, then a successful one: dlerror() must be clear after the second.
  dlsym(nccl, "ncclNoSuchFunction");
  auto get_version = reinterpret_cast<int (*)(int*)>(dlsym(nccl, "ncclGetVersion"));
  printf("dlerror_after_success %s\n", dlerror() ? "set" : "clear");
  Report("handle_nccl", "ncclGetVersion", reinterpret_cast<void*>(get_version));
  int version = 0;
  int result = get_version ? get_version(&version) : -1;
  printf("call ncclGetVersion %d %d\n", result, version);
  Report("handle_nccl", "ncclNoSuchFunction", dlsym(nccl, "ncclNoSuchFunction"));
  Report("handle_nccl", "pncclGetVersion", dlsym(nccl, "pncclGetVersion"));
  Report("handle_nccl", "ncclTeamWorld", dlsym(nccl, "ncclTeamWorld"));  // not wrapped
  Report("next_from_main", "ncclAllReduce", dlsym(RTLD_NEXT, "ncclAllReduce"));
  Report("default_from_main", "ncclAllReduce", dlsym(RTLD_DEFAULT, "ncclAllReduce"));
  Report("default_from_main", "ncclTeamWorld", dlsym(RTLD_DEFAULT, "ncclTeamWorld"));

  void* cudart = Open("libcudart.so.13");
  auto device_count =
      reinterpret_cast<int (*)(int*)>(cudart ? dlsym(cudart, "cudaGetDeviceCount") : nullptr);
  Report("handle_cudart", "cudaGetDeviceCount", reinterpret_cast<void*>(device_count));
  int devices = 0;
  result = device_count ? device_count(&devices) : -1;
  printf("call cudaGetDeviceCount %d %d\n", result, devices);
  void* curand = Open("libcurand.so.10");
  Report("handle_curand", "curandCreateGenerator",
         curand ? dlsym(curand, "curandCreateGenerator") : nullptr);

  // Another copy of NCCL: the wrappers forward to the first, so this one must come back as is.
  void* copy = Open(argv[1]);
  auto copy_version =
      reinterpret_cast<int (*)(int*)>(copy ? dlsym(copy, "ncclGetVersion") : nullptr);
  Report("handle_copy", "ncclGetVersion", reinterpret_cast<void*>(copy_version));
  version = 0;
  result = copy_version ? copy_version(&version) : -1;
  printf("call copy_ncclGetVersion %d %d\n", result, version);
  return 0;
}
