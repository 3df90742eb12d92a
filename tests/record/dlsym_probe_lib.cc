// One of dlsym_probe's four small libraries, built with DLSYM_PROBE_ID a, b, c or d:
// a needs b (both loaded at start-up), c needs d (dlopened RTLD_LOCAL by the probe). Every one
// defines dlsym_probe_which, so RTLD_NEXT from a (or c) must find b's (or d's), and one symbol of
// its own, dlsym_probe_only_<name>.
#include <dlfcn.h>

#define DLSYM_PROBE_CAT2(a, b) a##b
#define DLSYM_PROBE_CAT(a, b) DLSYM_PROBE_CAT2(a, b)
#define DLSYM_PROBE_STR2(a) #a
#define DLSYM_PROBE_STR(a) DLSYM_PROBE_STR2(a)

extern "C" {

__attribute__((visibility("default"))) const char* dlsym_probe_which() {
  return DLSYM_PROBE_STR(DLSYM_PROBE_ID);
}

__attribute__((visibility("default"))) int DLSYM_PROBE_CAT(dlsym_probe_only_, DLSYM_PROBE_ID) = 1;

// dlsym(RTLD_NEXT or RTLD_DEFAULT, name) made from inside this library: glibc answers relative to
// the object its return address lies in, and so must the hook. The volatile result keeps the
// call from becoming a tail jump, which would make the probe's executable the caller.
__attribute__((visibility("default"))) void* dlsym_probe_lookup(int next, const char* name) {
  void* volatile found = dlsym(next ? RTLD_NEXT : RTLD_DEFAULT, name);
  return found;
}

}  // extern "C"
