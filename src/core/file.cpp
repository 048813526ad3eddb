#include "core/file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

namespace vitrine {
namespace {

std::string RandomSuffix() {
  uint64_t value = 0;
  if (::getrandom(&value, sizeof(value), GRND_NONBLOCK) != sizeof(value)) {
    // No entropy yet (early boot): O_EXCL still guarantees we never share a temporary file.
    static std::atomic<uint64_t> counter{0};
    value = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
            (counter.fetch_add(1) << 48);
  }
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(value));
  return text;
}

Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path, errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

void SyncFolderOf(const std::string& path) {
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  UniqueFd fd(::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) ::fsync(fd.get());
}

// rename(), or with kKeep a rename that leaves an existing target alone.
int MoveIntoPlace(const std::string& from, const std::string& to, IfExists if_exists) {
  if (if_exists == IfExists::kReplace) return ::rename(from.c_str(), to.c_str());
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno == EEXIST) return 0;
  // A file system that cannot refuse to replace: a plain rename is still atomic, and a file
  // another process put there first has the same content by contract.
  if (errno == EINVAL || errno == ENOSYS) return ::rename(from.c_str(), to.c_str());
  return -1;
}

}  // namespace

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

int UniqueFd::Close() {
  int rc = ::close(fd_);
  fd_ = -1;
  return rc;
}

Status ErrnoStatus(std::string_view verb, const std::string& path, int error) {
  std::string message = "cannot " + std::string(verb) + " " + path + ": " + std::strerror(error);
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return NotFound(message + "; check the path");
    case EACCES:
    case EPERM:
    case EROFS:
      return InvalidArgument(message + "; check the permissions");
    case EISDIR:
      return InvalidArgument(message + "; give a file, not a folder");
    case ENOSPC:
    case EDQUOT:
      return ResourceExhausted(message + "; free some space and retry");
    default:
      return Unavailable(message);
  }
}

Status WriteFileAtomic(const std::string& path, std::string_view bytes, IfExists if_exists) {
  if (path.empty()) return InvalidArgument("cannot write a file with an empty path");
  const std::string temp = path + ".tmp-" + std::to_string(::getpid()) + "-" + RandomSuffix();
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (fd.get() < 0) return ErrnoStatus("write", path, errno);
  Status status = WriteAll(fd.get(), bytes, path);
  if (status.ok() && ::fsync(fd.get()) != 0) status = ErrnoStatus("write", path, errno);
  if (fd.Close() != 0 && status.ok()) status = ErrnoStatus("write", path, errno);
  if (status.ok() && MoveIntoPlace(temp, path, if_exists) != 0) {
    status = ErrnoStatus("write", path, errno);
  }
  ::unlink(temp.c_str());  // left only if it was not moved into place
  if (!status.ok()) return status;
  SyncFolderOf(path);
  return Status::Ok();
}

void RemoveStaleTemporaries(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> stale;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->path().filename().string().find(".tmp-") != std::string::npos) {
      stale.push_back(it->path());
    }
  }
  for (const fs::path& path : stale) fs::remove(path, ec);
}

}  // namespace vitrine
