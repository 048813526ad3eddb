#include "core/file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace vitrine {
namespace {
namespace fs = std::filesystem;

std::string Slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(WriteFileAtomicTest, ReplaceOrKeepAndNoTemporaryFilesLeft) {
  fs::path dir = fs::temp_directory_path() / ("vitrine_file_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "a.bin").string();

  ASSERT_TRUE(WriteFileAtomic(path, "first").ok());
  ASSERT_TRUE(WriteFileAtomic(path, "second").ok());
  EXPECT_EQ(Slurp(path), "second");
  ASSERT_TRUE(WriteFileAtomic(path, "third", IfExists::kKeep).ok());
  EXPECT_EQ(Slurp(path), "second") << "kKeep must not replace an existing file";

  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  Status missing = WriteFileAtomic((dir / "no" / "b.bin").string(), "x");
  EXPECT_EQ(missing.code(), Code::kNotFound);
  EXPECT_NE(missing.message().find("check the path"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vitrine
