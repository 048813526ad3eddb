// Files: reading with a size bound, and writing so that readers never see half a file.
//
// All functions are thread-safe. Errors carry the path and say what to do: NotFound for a missing
// file or folder, InvalidArgument for permissions or a folder where a file was expected,
// ResourceExhausted for a full disk, Unavailable for other I/O errors.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"

namespace vitrine {

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&&) = delete;
  ~UniqueFd();
  int get() const { return fd_; }
  // Closes now and returns close()'s result (delayed write errors surface there).
  int Close();

 private:
  int fd_;
};

// The Status for errno `error` after trying to `verb` ("read", "write") `path`.
Status ErrnoStatus(std::string_view verb, const std::string& path, int error);

enum class IfExists {
  kReplace,  // the new content replaces the file
  kKeep,     // an existing file is kept and Ok returned: for caches whose name fixes the content
};

// Writes `bytes` to a temporary file beside `path`, syncs it, then renames it into place.
Status WriteFileAtomic(const std::string& path, std::string_view bytes,
                       IfExists if_exists = IfExists::kReplace);

// Removes, under `dir` (recursively), the temporary files that WriteFileAtomic leaves when its
// process is killed (<file>.tmp-<pid>-<random>). Call it only while no one else writes there (a
// lock or a lease held). A missing folder is fine.
void RemoveStaleTemporaries(const std::string& dir);

}  // namespace vitrine
