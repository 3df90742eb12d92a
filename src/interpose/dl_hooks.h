// libddrr's own symbol lookups. libddrr exports a `dlsym` hook (dl_hooks.cc), so a plain dlsym
// call from inside libddrr would bind to that hook: every lookup ddrr makes for itself goes
// through RealDlsym instead. Its RTLD_NEXT is relative to libddrr, as those lookups need.
#pragma once

namespace ddrr::interpose {

void* RealDlsym(void* handle, const char* name);

}  // namespace ddrr::interpose
