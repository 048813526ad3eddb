// Who a worker process is, precisely enough to prove later that it is gone: the host name, the
// kernel's boot id (/proc/sys/kernel/random/boot_id), the pid namespace (the inode of
// /proc/self/ns/pid), the pid, and that pid's start time (field 22 of /proc/<pid>/stat, in clock
// ticks since boot). Containers that share a host name and a store differ in boot id or pid
// namespace; a pid reused after a crash differs in start time.
//
// Worker ids stored as a job's lease_owner start with ToString(), so a restarted process can
// release the jobs of its dead predecessors at once (IsProvablyDead) and leave every other
// claim to lease expiry. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace vitrine::api {

struct ProcessIdentity {
  std::string host;
  std::string boot_id;
  std::string pid_namespace;  // inode number of the pid namespace
  int64_t pid = 0;
  std::string start_time;  // clock ticks after boot

  // "host/boot_id/pid_namespace/pid/start_time".
  std::string ToString() const;
  // The identity at the start of `text` (ToString(), possibly followed by "/..."), or nullopt
  // when `text` is not in that form (an older worker id, say).
  static std::optional<ProcessIdentity> Parse(std::string_view text);
};

// The start time of a live process `pid` as seen from here, or nullopt if there is none.
using StartTimeOf = std::function<std::optional<std::string>(int64_t pid)>;
// Reads /proc/<pid>/stat.
std::optional<std::string> ProcStartTime(int64_t pid);

// This process's identity (computed once).
const ProcessIdentity& SelfIdentity();

// True only when `owner` is provably gone: it ran on this host, in this boot and this pid
// namespace (so its pid means the same thing here), it is not this process, and no process with
// its pid and start time is alive. Anything else (another host, boot or container, an
// unparseable id) is false: its claims wait for their leases to expire.
bool IsProvablyDead(std::string_view owner, const ProcessIdentity& self = SelfIdentity(),
                    const StartTimeOf& start_time_of = ProcStartTime);

}  // namespace vitrine::api
