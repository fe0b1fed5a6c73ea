#include "depscan/content_hash.h"
#include "depscan/scan_cache.h"
#include "depscan/scanner.h"

#include <gtest/gtest.h>

#include <thread>

namespace ccrex::depscan {
namespace {

class NoBuiltins final : public BuiltinProber {
public:
  ScanResultOr<std::vector<std::string>>
  builtin_dirs(const std::string&, Language, const std::vector<std::string>&) override {
    return std::vector<std::string>{};
  }
};

TEST(ScanCache, SameStatIsNotReadAgain) {
  MemoryFileSystem fs;
  ScanCache cache;
  fs.add_file("/a.h", "#include <x.h>\n");
  const FileStat st = *fs.stat("/a.h");
  auto first = cache.directives(fs, "/a.h", st);
  ASSERT_TRUE(first);
  auto second = cache.directives(fs, "/a.h", st);
  ASSERT_TRUE(second);
  EXPECT_EQ(fs.reads(), 1);
  EXPECT_EQ(first->get(), second->get());
  EXPECT_EQ(cache.stats().directive_hits, 1);
}

TEST(ScanCache, ChangedFileIsLexedAgain) {
  MemoryFileSystem fs;
  ScanCache cache;
  fs.add_file("/a.h", "#include <x.h>\n");
  auto first = cache.directives(fs, "/a.h", *fs.stat("/a.h"));
  fs.add_file("/a.h", "#include <y.h>\n");
  auto second = cache.directives(fs, "/a.h", *fs.stat("/a.h"));
  ASSERT_TRUE(second);
  EXPECT_EQ(print_directives((*second)->directives), "include <y.h>\n");
  EXPECT_EQ(fs.reads(), 2);
  EXPECT_EQ(cache.stats().lexed, 2);
}

TEST(ScanCache, SizeCollisionWithDifferentContentIsLexedSeparately) {
  MemoryFileSystem fs;
  ScanCache cache;
  fs.add_file("/a.h", "#include <x.h>\n");
  fs.add_file("/b.h", "#include <y.h>\n");
  auto a = cache.directives(fs, "/a.h", *fs.stat("/a.h"));
  auto b = cache.directives(fs, "/b.h", *fs.stat("/b.h"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(print_directives((*b)->directives), "include <y.h>\n");
  EXPECT_EQ(cache.stats().lexed, 2);
  // Their first and last bytes differ: the first file is not read again to compare.
  EXPECT_EQ(fs.reads(), 2);
}

TEST(ScanCache, SizeCollisionWithSameEdgesComparesAllBytes) {
  MemoryFileSystem fs;
  ScanCache cache;
  const std::string head = "#include <x.h>\n" + std::string(100, ' ') + "\n";
  const std::string tail = "\n" + std::string(100, ' ') + "\n#include <z.h>\n";
  fs.add_file("/a.h", head + "#include <p.h>\n" + tail);
  fs.add_file("/b.h", head + "#include <q.h>\n" + tail);
  fs.add_file("/c.h", head + "#include <p.h>\n" + tail);
  auto a = cache.directives(fs, "/a.h", *fs.stat("/a.h"));
  auto b = cache.directives(fs, "/b.h", *fs.stat("/b.h"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(print_directives((*b)->directives), "include <x.h>\ninclude <q.h>\ninclude <z.h>\n");
  EXPECT_EQ(cache.stats().lexed, 2);
  // Same size, same edges: the first file was read again to hash and compare it.
  EXPECT_EQ(fs.reads(), 3);
  auto c = cache.directives(fs, "/c.h", *fs.stat("/c.h"));
  ASSERT_TRUE(c);
  EXPECT_EQ(a->get(), c->get());
  EXPECT_EQ(cache.stats().digest_hits, 1);
  EXPECT_EQ(cache.stats().lexed, 2);
}

TEST(ScanCache, SameContentElsewhereIsADigestHit) {
  MemoryFileSystem fs;
  ScanCache cache;
  fs.add_file("/a.h", "#include <x.h>\n");
  fs.add_file("/b.h", "#include <x.h>\n");
  auto a = cache.directives(fs, "/a.h", *fs.stat("/a.h"));
  auto b = cache.directives(fs, "/b.h", *fs.stat("/b.h"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(cache.stats().lexed, 1);
  EXPECT_EQ(cache.stats().digest_hits, 1);
}

TEST(ScanCache, ListingFollowsDirectoryChanges) {
  MemoryFileSystem fs;
  ScanCache cache;
  NoBuiltins prober;
  Scanner scanner(fs, cache, prober);
  fs.add_file("/w/a.c", "#include <x.h>\n");
  fs.add_file("/w/i/other.h", "");
  const ScanRequest req{"cc", {"-Ii", "a.c"}, "/w", {}};
  auto r1 = scanner.scan(req);
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->files, (std::vector<std::string>{"a.c"}));
  const int listings = fs.listings();
  // Unchanged directory: the negative lookup is answered from the cached listing.
  ASSERT_TRUE(scanner.scan(req));
  EXPECT_EQ(fs.listings(), listings);
  // A new header changes the directory's stat, so the listing is read again.
  fs.add_file("/w/i/x.h", "");
  auto r3 = scanner.scan(req);
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->files, (std::vector<std::string>{"a.c", "i/x.h"}));
  EXPECT_GT(fs.listings(), listings);
}

TEST(ScanCache, WarmScanReadsNothing) {
  MemoryFileSystem fs;
  ScanCache cache;
  NoBuiltins prober;
  Scanner scanner(fs, cache, prober);
  fs.add_file("/w/a.c", "#include \"b.h\"\n");
  fs.add_file("/w/b.h", "#include \"c.h\" // sizes differ: no digest needed\n");
  fs.add_file("/w/c.h", "");
  const ScanRequest req{"cc", {"a.c"}, "/w", {}};
  ASSERT_TRUE(scanner.scan(req));
  const int reads = fs.reads();
  EXPECT_EQ(reads, 3);
  auto again = scanner.scan(req);
  ASSERT_TRUE(again);
  EXPECT_EQ(fs.reads(), reads);
  EXPECT_EQ(again->files, (std::vector<std::string>{"a.c", "b.h", "c.h"}));
}

TEST(ScanCache, WholeScanReusedUntilAnObservedPathChanges) {
  MemoryFileSystem fs;
  ScanCache cache;
  NoBuiltins prober;
  Scanner scanner(fs, cache, prober);
  fs.add_file("/w/a.c", "#include \"b.h\"\n#include <n.h>\n");
  fs.add_file("/w/b.h", "");
  fs.add_file("/w/d.h", "");
  fs.add_dir("/w/i");
  const ScanRequest req{"cc", {"-Ii", "a.c"}, "/w", {}};
  ASSERT_TRUE(scanner.scan(req));
  ASSERT_TRUE(scanner.scan(req));
  EXPECT_EQ(cache.stats().result_hits, 1);
  // A changed header is seen through its stat.
  fs.add_file("/w/b.h", "#include \"d.h\"\n");
  auto changed = scanner.scan(req);
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->files, (std::vector<std::string>{"a.c", "b.h", "d.h"}));
  EXPECT_EQ(cache.stats().result_hits, 1);
  // A header appearing where a lookup failed before is seen through the directory's stat.
  fs.add_file("/w/i/n.h", "");
  auto appeared = scanner.scan(req);
  ASSERT_TRUE(appeared);
  EXPECT_EQ(appeared->files, (std::vector<std::string>{"a.c", "b.h", "d.h", "i/n.h"}));
  // A different configuration never shares a result.
  auto other = scanner.scan({"cc", {"a.c"}, "/w", {}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->files, (std::vector<std::string>{"a.c", "b.h", "d.h"}));
}

TEST(ScanCache, ConcurrentScansAgree) {
  MemoryFileSystem fs;
  ScanCache cache;
  NoBuiltins prober;
  Scanner scanner(fs, cache, prober);
  std::string main_src;
  for (int i = 0; i < 50; ++i) {
    const std::string name = "h" + std::to_string(i) + ".h";
    main_src += "#include \"" + name + "\"\n";
    fs.add_file("/w/" + name, i > 0 ? "#include \"h" + std::to_string(i - 1) + ".h\"\n" : "");
  }
  fs.add_file("/w/a.c", main_src);
  const ScanRequest req{"cc", {"a.c"}, "/w", {}};
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < 20; ++k) {
        auto r = scanner.scan(req);
        if (r && r->files.size() == 51) {
          ++good;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(good.load(), 80);
}

TEST(ScanCache, SameSizeDifferentContentIsLexedSeparately) {
  MemoryFileSystem fs;
  ScanCache cache;
  fs.add_file("/a.h", "#include <x.h>\n");
  fs.add_file("/b.h", "#include <y.h>\n");
  fs.add_file("/c.h", "#include <x.h>\n");
  auto a = cache.directives(fs, "/a.h", *fs.stat("/a.h"));
  auto b = cache.directives(fs, "/b.h", *fs.stat("/b.h"));
  auto c = cache.directives(fs, "/c.h", *fs.stat("/c.h"));
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(print_directives((*b)->directives), "include <y.h>\n");
  EXPECT_EQ(a->get(), c->get());
  EXPECT_EQ(cache.stats().lexed, 2);
  EXPECT_EQ(cache.stats().digest_hits, 1);
}

TEST(ContentHash, DependsOnEveryByteAndTheLength) {
  const std::string base(100, 'a');
  EXPECT_EQ(content_hash(base), content_hash(std::string(100, 'a')));
  for (size_t i = 0; i < base.size(); ++i) {
    std::string changed = base;
    changed[i] = 'b';
    EXPECT_NE(content_hash(changed), content_hash(base)) << i;
  }
  EXPECT_NE(content_hash(std::string(16, '\0')), content_hash(std::string(17, '\0')));
  EXPECT_NE(content_hash(""), content_hash(std::string(1, '\0')));
  EXPECT_EQ(content_hash_hex("x").size(), 16u);
}

} // namespace
} // namespace ccrex::depscan
