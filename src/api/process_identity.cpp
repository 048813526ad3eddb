#include "api/process_identity.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "core/text.h"

namespace vitrine::api {
namespace {

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return Trim(line);
}

// "pid:[4026531836]" -> "4026531836".
std::string PidNamespace() {
  char link[128] = {};
  const ssize_t n = ::readlink("/proc/self/ns/pid", link, sizeof link - 1);
  if (n <= 0) return "";
  const std::string text(link, static_cast<size_t>(n));
  const size_t open = text.find('[');
  const size_t close = text.find(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return text;
  return text.substr(open + 1, close - open - 1);
}

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "host";
  return name;
}

}  // namespace

std::string ProcessIdentity::ToString() const {
  return host + "/" + boot_id + "/" + pid_namespace + "/" + std::to_string(pid) + "/" + start_time;
}

std::optional<ProcessIdentity> ProcessIdentity::Parse(std::string_view text) {
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() < 5) return std::nullopt;
  ProcessIdentity id{parts[0], parts[1], parts[2], 0, parts[4]};
  char* end = nullptr;
  id.pid = std::strtoll(parts[3].c_str(), &end, 10);
  if (parts[3].empty() || *end != '\0' || id.pid <= 0) return std::nullopt;
  for (const std::string* part : {&id.host, &id.boot_id, &id.pid_namespace, &id.start_time}) {
    if (part->empty()) return std::nullopt;
  }
  return id;
}

std::optional<std::string> ProcStartTime(int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold spaces or ')': fields 3.. follow
  // the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int n = 3; fields >> field; ++n) {
    if (n == 22) return field;
  }
  return std::nullopt;
}

const ProcessIdentity& SelfIdentity() {
  static const ProcessIdentity kSelf = [] {
    ProcessIdentity id;
    id.host = HostName();
    id.boot_id = FirstLine("/proc/sys/kernel/random/boot_id");
    id.pid_namespace = PidNamespace();
    id.pid = ::getpid();
    id.start_time = ProcStartTime(id.pid).value_or("");
    // Without /proc nothing can be proven about other processes: "unknown" never matches.
    for (std::string* part : {&id.boot_id, &id.pid_namespace, &id.start_time}) {
      if (part->empty()) *part = "unknown";
    }
    return id;
  }();
  return kSelf;
}

bool IsProvablyDead(std::string_view owner, const ProcessIdentity& self,
                    const StartTimeOf& start_time_of) {
  const std::optional<ProcessIdentity> other = ProcessIdentity::Parse(owner);
  if (!other) return false;
  for (const std::string& part : {self.boot_id, self.pid_namespace, self.start_time}) {
    if (part == "unknown") return false;
  }
  if (other->host != self.host || other->boot_id != self.boot_id ||
      other->pid_namespace != self.pid_namespace) {
    return false;
  }
  if (other->pid == self.pid && other->start_time == self.start_time) return false;
  const std::optional<std::string> now = start_time_of(other->pid);
  return !now || *now != other->start_time;
}

}  // namespace vitrine::api
