// RealFileSystem against a temporary directory: listings through getdents64 and the
// stat-then-read path that keeps the file open in between.

#include "depscan/file_system.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <set>

namespace ccrex::depscan {
namespace {

void write(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

TEST(RealFileSystem, ListsLargeDirectoriesWithTypes) {
  util::TempDir dir("ccrex-depscan-fs-");
  std::set<std::string> expected;
  // Enough long names to need several getdents64 calls.
  for (int i = 0; i < 3000; ++i) {
    const std::string name = "header_with_a_rather_long_name_" + std::to_string(i) + ".h";
    write(dir.path() + "/" + name, "");
    expected.insert(name);
  }
  ASSERT_EQ(::mkdir((dir.path() + "/sub").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("sub", (dir.path() + "/link").c_str()), 0);
  RealFileSystem fs;
  auto entries = fs.list_dir(dir.path());
  ASSERT_TRUE(entries);
  std::set<std::string> files;
  for (const DirEntry& e : *entries) {
    if (e.name == "sub") {
      EXPECT_EQ(e.type, FileType::directory);
    } else if (e.name == "link") {
      EXPECT_EQ(e.type, std::nullopt); // a symlink needs a stat
    } else {
      EXPECT_EQ(e.type, FileType::regular) << e.name;
      files.insert(e.name);
    }
  }
  EXPECT_EQ(entries->size(), expected.size() + 2);
  EXPECT_EQ(files, expected);
  EXPECT_FALSE(fs.list_dir(dir.path() + "/missing"));
  EXPECT_FALSE(fs.list_dir(dir.path() + "/header_with_a_rather_long_name_0.h"));
}

TEST(RealFileSystem, StatForReadMatchesStatAndFeedsTheRead) {
  util::TempDir dir("ccrex-depscan-fs-");
  const std::string a = dir.path() + "/a.h";
  const std::string b = dir.path() + "/b.h";
  write(a, "#include <b.h>\n");
  write(b, "int b;\n");
  RealFileSystem fs;
  const auto st = fs.stat_for_read(a);
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, *fs.stat(a));
  std::string buffer;
  auto used = fs.read_into(a, st->size, buffer);
  ASSERT_TRUE(used);
  EXPECT_EQ(buffer.substr(0, *used), "#include <b.h>\n");
  // A second stat_for_read replaces the pending file; reading the first path opens it again.
  ASSERT_TRUE(fs.stat_for_read(a));
  ASSERT_TRUE(fs.stat_for_read(b));
  used = fs.read_into(a, st->size, buffer);
  ASSERT_TRUE(used);
  EXPECT_EQ(buffer.substr(0, *used), "#include <b.h>\n");
  used = fs.read_into(b, 7, buffer);
  ASSERT_TRUE(used);
  EXPECT_EQ(buffer.substr(0, *used), "int b;\n");
}

TEST(RealFileSystem, StatForReadOfMissingDirectoryAndFifo) {
  util::TempDir dir("ccrex-depscan-fs-");
  RealFileSystem fs;
  EXPECT_FALSE(fs.stat_for_read(dir.path() + "/missing.h"));
  EXPECT_FALSE(fs.stat_for_read(dir.path() + "/missing/x.h"));
  const auto d = fs.stat_for_read(dir.path());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->type, FileType::directory);
  // A FIFO must not block the open (no writer ever comes).
  const std::string fifo = dir.path() + "/pipe.h";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  const auto f = fs.stat_for_read(fifo);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->type, FileType::other);
}

TEST(RealFileSystem, ReadsOnlyRegularFiles) {
  util::TempDir dir("ccrex-depscan-fs-");
  RealFileSystem fs;
  // `#include "/dev/zero"` or a FIFO header: reading must fail at once (the compile then
  // takes the compiler's route), never block on the FIFO or fill memory from the device.
  const std::string fifo = dir.path() + "/pipe.h";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  std::string buffer;
  for (const std::string& path : {fifo, std::string("/dev/zero"), dir.path()}) {
    EXPECT_FALSE(fs.read_file(path)) << path;
    EXPECT_FALSE(fs.read_into(path, 0, buffer)) << path;
    ASSERT_TRUE(fs.stat_for_read(path)) << path; // nothing kept open for the read
    EXPECT_FALSE(fs.read_into(path, 0, buffer)) << path;
  }
  EXPECT_LT(buffer.size(), size_t{1} << 20);
}

} // namespace
} // namespace ccrex::depscan
