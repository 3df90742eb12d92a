// What a comm replay does before a `--from` window: the calls that build what the window's
// operations use (communicators, registrations, reduction ops, memory, streams, events, devices,
// groups) are replayed; collectives, send/recv, synchronizations and queries are not. Shared by
// the plan, the replay ranks and the verdict, which must agree on it.
#pragma once

#include <string_view>

namespace ddrr::replay {

// `category`: the function's category in api_spec.py.
inline bool ReplayedBeforeWindow(std::string_view category) {
  return category == "comm_create" || category == "comm_destroy" || category == "registration" ||
         category == "redop" || category == "memory" || category == "stream" ||
         category == "event" || category == "device" || category == "group";
}

}  // namespace ddrr::replay
