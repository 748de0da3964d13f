// Behaviour of the arena-resident tmpfs store against plain host memory.
#include "tmpfs_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace umka::tmpfs {
namespace {

#define EXPECT_STATUS(expression, expected) EXPECT_EQ((expression).code(), (expected))
#define ASSERT_OK(expression) ASSERT_EQ((expression).code(), 0)
#define EXPECT_OK(expression) EXPECT_EQ((expression).code(), 0)

struct FreeArena {
    void operator()(uint8_t* memory) const { std::free(memory); }
};
using ArenaMemory = std::unique_ptr<uint8_t, FreeArena>;

ArenaMemory make_arena(uint64_t length) {
    auto* memory = static_cast<uint8_t*>(std::aligned_alloc(kBlockSize, length));
    std::memset(memory, 0xA5, length);  // format() must not rely on zeroed memory
    return ArenaMemory(memory);
}

class TmpfsStore : public ::testing::Test {
protected:
    void format(uint64_t length) {
        length_ = length;
        arena_ = make_arena(length);
        ASSERT_OK(Store::format(arena_.get(), length, 1000, &store_));
    }
    void SetUp() override { format(4 << 20); }
    void TearDown() override { EXPECT_OK(store_.check()); }

    uint64_t make(uint64_t directory, const std::string& name, NodeKind kind) {
        uint64_t inode = 0;
        EXPECT_OK(store_.create(directory, name.data(), static_cast<uint32_t>(name.size()), kind,
                                0644, ++now_, &inode));
        return inode;
    }
    Status lookup(uint64_t directory, const std::string& name, uint64_t* inode) const {
        return store_.lookup(directory, name.data(), static_cast<uint32_t>(name.size()), inode);
    }
    uint64_t find(uint64_t directory, const std::string& name) const {
        uint64_t inode = 0;
        EXPECT_OK(lookup(directory, name, &inode)) << name;
        return inode;
    }
    void put(uint64_t inode, uint64_t offset, const std::string& data) {
        uint64_t written = 0;
        ASSERT_OK(store_.write(inode, offset, data.data(), data.size(), ++now_, &written));
        ASSERT_EQ(written, data.size());
    }
    std::string contents(uint64_t inode) const {
        Attributes attributes{};
        EXPECT_OK(store_.attributes(inode, &attributes));
        std::string data(attributes.size, '\0');
        uint64_t transferred = 0;
        EXPECT_OK(store_.read(inode, 0, data.data(), data.size(), &transferred));
        EXPECT_EQ(transferred, data.size());
        return data;
    }
    Attributes attributes(uint64_t inode) const {
        Attributes attributes{};
        EXPECT_OK(store_.attributes(inode, &attributes));
        return attributes;
    }
    Status unlink(uint64_t directory, const std::string& name) {
        return store_.unlink(directory, name.data(), static_cast<uint32_t>(name.size()), ++now_);
    }
    Status rmdir(uint64_t directory, const std::string& name) {
        return store_.remove_directory(directory, name.data(), static_cast<uint32_t>(name.size()),
                                       ++now_);
    }
    Status rename(uint64_t from, const std::string& from_name, uint64_t to,
                  const std::string& to_name) {
        return store_.rename(from, from_name.data(), static_cast<uint32_t>(from_name.size()), to,
                             to_name.data(), static_cast<uint32_t>(to_name.size()), ++now_);
    }
    Status link(uint64_t directory, const std::string& name, uint64_t inode) {
        return store_.link(directory, name.data(), static_cast<uint32_t>(name.size()), inode,
                           ++now_);
    }
    std::vector<std::string> list(uint64_t directory) const {
        std::vector<std::string> names;
        Entry entry{};
        uint64_t cookie = 0;
        uint64_t next = 0;
        while (store_.read_directory(directory, cookie, &entry, &next).is_ok()) {
            names.emplace_back(entry.name, entry.name_length);
            EXPECT_EQ(std::strlen(entry.name), entry.name_length);
            cookie = next;
        }
        return names;
    }

    ArenaMemory arena_;
    uint64_t length_ = 0;
    Store store_;
    uint64_t now_ = 1000;
};

TEST_F(TmpfsStore, FormatRejectsUnusableArenas) {
    Store other;
    EXPECT_STATUS(Store::format(nullptr, 1 << 20, 0, &other), UMKA_KABI_EINVAL);
    EXPECT_STATUS(Store::format(arena_.get() + 8, 1 << 20, 0, &other), UMKA_KABI_EINVAL);
    EXPECT_STATUS(Store::format(arena_.get(), 8 * kBlockSize, 0, &other), UMKA_KABI_EINVAL);
    EXPECT_OK(Store::format(arena_.get(), 9 * kBlockSize, 0, &other));
    EXPECT_EQ(other.usage().total_blocks, 4u);
    EXPECT_OK(other.check());
    format(4 << 20);
    Attributes root = attributes(kRootInode);
    EXPECT_EQ(root.mode, 040755u);
    EXPECT_EQ(root.link_count, 2u);
    EXPECT_EQ(root.kind, NodeKind::Directory);
    Usage usage = store_.usage();
    EXPECT_EQ(usage.block_size, kBlockSize);
    EXPECT_EQ(usage.free_blocks, usage.total_blocks);
    EXPECT_EQ(usage.total_inodes, usage.total_blocks / 4);
    EXPECT_EQ(usage.free_inodes, usage.total_inodes - 1);
}

TEST_F(TmpfsStore, CreateLookupReadWriteRoundTrip) {
    uint64_t file = make(kRootInode, "hello.txt", NodeKind::Regular);
    put(file, 0, "hello, world");
    put(file, 7, "tmpfs");
    EXPECT_EQ(contents(file), "hello, tmpfs");
    EXPECT_EQ(find(kRootInode, "hello.txt"), file);
    EXPECT_EQ(find(kRootInode, "."), kRootInode);
    EXPECT_EQ(find(kRootInode, ".."), kRootInode);
    Attributes info = attributes(file);
    EXPECT_EQ(info.mode, 0100644u);
    EXPECT_EQ(info.link_count, 1u);
    EXPECT_EQ(info.blocks, 8u);
    EXPECT_EQ(info.modified_ns, now_);

    char buffer[8] = {};
    uint64_t transferred = 99;
    EXPECT_OK(store_.read(file, 100, buffer, sizeof(buffer), &transferred));
    EXPECT_EQ(transferred, 0u);
    EXPECT_OK(store_.read(file, 7, buffer, sizeof(buffer), &transferred));
    EXPECT_EQ(std::string(buffer, transferred), "tmpfs");

    uint64_t inode = 0;
    EXPECT_STATUS(lookup(kRootInode, "missing", &inode), UMKA_KABI_ENOENT);
    EXPECT_STATUS(lookup(file, "x", &inode), UMKA_KABI_ENOTDIR);
    EXPECT_STATUS(lookup(kRootInode, std::string(256, 'a'), &inode), UMKA_KABI_ENAMETOOLONG);
    EXPECT_STATUS(store_.create(kRootInode, "hello.txt", 9, NodeKind::Regular, 0644, 0, &inode),
                  UMKA_KABI_EEXIST);
    EXPECT_STATUS(store_.create(kRootInode, "", 0, NodeKind::Regular, 0644, 0, &inode),
                  UMKA_KABI_EINVAL);
    EXPECT_STATUS(store_.create(kRootInode, "a/b", 3, NodeKind::Regular, 0644, 0, &inode),
                  UMKA_KABI_EINVAL);
    EXPECT_STATUS(store_.create(kRootInode, "a\0b", 3, NodeKind::Regular, 0644, 0, &inode),
                  UMKA_KABI_EINVAL);
    EXPECT_STATUS(store_.create(kRootInode, "..", 2, NodeKind::Directory, 0755, 0, &inode),
                  UMKA_KABI_EINVAL);
    EXPECT_STATUS(store_.create(kRootInode, ".", 1, NodeKind::Regular, 0644, 0, &inode),
                  UMKA_KABI_EINVAL);
    EXPECT_STATUS(store_.create(kRootInode, "l", 1, NodeKind::Symlink, 0777, 0, &inode),
                  UMKA_KABI_EINVAL);
    std::string longest(kMaximumNameLength, 'n');
    EXPECT_NE(make(kRootInode, longest, NodeKind::Regular), 0u);
    EXPECT_STATUS(store_.create(kRootInode, std::string(256, 'n').data(), 256, NodeKind::Regular,
                                0644, 0, &inode),
                  UMKA_KABI_ENAMETOOLONG);
    EXPECT_STATUS(store_.create(file, "x", 1, NodeKind::Regular, 0644, 0, &inode),
                  UMKA_KABI_ENOTDIR);

    uint64_t directory = make(kRootInode, "sub", NodeKind::Directory);
    EXPECT_EQ(attributes(directory).link_count, 2u);
    EXPECT_EQ(attributes(directory).mode, 040644u);
    EXPECT_EQ(attributes(kRootInode).link_count, 3u);
    EXPECT_EQ(find(directory, ".."), kRootInode);
    uint64_t nested = make(directory, "nested", NodeKind::Regular);
    EXPECT_EQ(find(directory, "nested"), nested);
    EXPECT_STATUS(store_.read(directory, 0, buffer, 1, &transferred), UMKA_KABI_EISDIR);
    EXPECT_STATUS(store_.write(directory, 0, buffer, 1, 0, &transferred), UMKA_KABI_EISDIR);
    EXPECT_STATUS(store_.attributes(0, &info), UMKA_KABI_ENOENT);
    EXPECT_STATUS(store_.attributes(999999, &info), UMKA_KABI_ENOENT);
    EXPECT_STATUS(store_.attributes(nested + 1, &info), UMKA_KABI_ENOENT);
}

TEST_F(TmpfsStore, LargeFileThroughSingleAndDoubleIndirectBlocks) {
    format(8 << 20);
    uint64_t file = make(kRootInode, "large", NodeKind::Regular);
    const uint64_t size = 12 * 4096 + 1024 * 4096 + 3 * 4096 + 777;
    std::vector<uint8_t> data(size);
    std::mt19937 random(7);
    for (auto& byte : data) byte = static_cast<uint8_t>(random());
    uint64_t free_before = store_.usage().free_blocks;
    for (uint64_t offset = 0; offset < size;) {
        uint64_t chunk = std::min<uint64_t>(size - offset, 5000 + random() % 20000);
        uint64_t written = 0;
        ASSERT_OK(store_.write(file, offset, data.data() + offset, chunk, ++now_, &written));
        ASSERT_EQ(written, chunk);
        offset += chunk;
    }
    std::vector<uint8_t> back(size);
    uint64_t transferred = 0;
    ASSERT_OK(store_.read(file, 0, back.data(), size, &transferred));
    ASSERT_EQ(transferred, size);
    EXPECT_TRUE(back == data);
    uint64_t data_blocks = (size + 4095) / 4096;
    uint64_t map_blocks = 1 + 1 + 1;  // single indirect, double indirect, one inner table
    EXPECT_EQ(attributes(file).blocks, (data_blocks + map_blocks) * 8);
    EXPECT_EQ(free_before - store_.usage().free_blocks, data_blocks + map_blocks);
    EXPECT_OK(store_.check());
    ASSERT_OK(store_.truncate(file, 0, ++now_));
    EXPECT_EQ(store_.usage().free_blocks, free_before);
    EXPECT_EQ(attributes(file).blocks, 0u);
}

TEST_F(TmpfsStore, SparseFilesReadZerosInHoles) {
    uint64_t file = make(kRootInode, "sparse", NodeKind::Regular);
    const uint64_t far = (12 + 1024 + 5000) * uint64_t{4096} + 100;
    put(file, far, "end");
    put(file, 5, "start");
    Attributes attributes = this->attributes(file);
    EXPECT_EQ(attributes.size, far + 3);
    EXPECT_EQ(attributes.blocks, (2 + 2) * 8u);  // two data blocks, the double and its table
    std::vector<char> middle(3 * 4096, 'x');
    uint64_t transferred = 0;
    ASSERT_OK(store_.read(file, 4096 * 20, middle.data(), middle.size(), &transferred));
    EXPECT_EQ(transferred, middle.size());
    EXPECT_TRUE(std::all_of(middle.begin(), middle.end(), [](char c) { return c == 0; }));
    char tail[8] = {};
    ASSERT_OK(store_.read(file, far - 2, tail, sizeof(tail), &transferred));
    EXPECT_EQ(transferred, 5u);
    EXPECT_EQ(std::string(tail, 5), std::string("\0\0end", 5));
}

TEST_F(TmpfsStore, TruncateShrinksAndGrows) {
    uint64_t file = make(kRootInode, "t", NodeKind::Regular);
    put(file, 0, std::string(10000, 'x'));
    uint64_t free_before = store_.usage().free_blocks;
    ASSERT_OK(store_.truncate(file, 5000, ++now_));
    EXPECT_EQ(store_.usage().free_blocks, free_before + 1);
    EXPECT_EQ(attributes(file).blocks, 2 * 8u);
    ASSERT_OK(store_.truncate(file, 9000, ++now_));
    std::string expected = std::string(5000, 'x') + std::string(4000, '\0');
    EXPECT_EQ(contents(file), expected);
    ASSERT_OK(store_.truncate(file, 100000, ++now_));
    EXPECT_EQ(attributes(file).blocks, 2 * 8u);
    EXPECT_EQ(contents(file), expected + std::string(91000, '\0'));
    ASSERT_OK(store_.truncate(file, 0, ++now_));
    EXPECT_EQ(attributes(file).blocks, 0u);
    EXPECT_EQ(store_.usage().free_blocks, free_before + 3);
    EXPECT_STATUS(store_.truncate(kRootInode, 0, 0), UMKA_KABI_EISDIR);
    EXPECT_STATUS(store_.truncate(file, layout::kMaximumFileSize + 1, 0), UMKA_KABI_EFBIG);
}

TEST_F(TmpfsStore, WritePastTheLargestFileIsRefused) {
    uint64_t file = make(kRootInode, "big", NodeKind::Regular);
    uint64_t transferred = 1;
    EXPECT_STATUS(store_.write(file, layout::kMaximumFileSize, "x", 1, 0, &transferred),
                  UMKA_KABI_EFBIG);
    EXPECT_EQ(transferred, 0u);
    EXPECT_OK(store_.write(file, layout::kMaximumFileSize - 2, "xyz", 3, 0, &transferred));
    EXPECT_EQ(transferred, 2u);
    EXPECT_EQ(attributes(file).size, layout::kMaximumFileSize);
}

TEST_F(TmpfsStore, NoSpaceWritesShortThenUnlinkGivesSpaceBack) {
    format(64 * kBlockSize);
    uint64_t free_at_start = store_.usage().free_blocks;
    uint64_t file = make(kRootInode, "fill", NodeKind::Regular);
    uint64_t after_entry = store_.usage().free_blocks;
    std::string data(free_at_start * kBlockSize, 'f');
    uint64_t written = 0;
    ASSERT_OK(store_.write(file, 0, data.data(), data.size(), ++now_, &written));
    EXPECT_GT(written, 0u);
    EXPECT_LT(written, data.size());
    EXPECT_EQ(written % kBlockSize, 0u);
    EXPECT_EQ(store_.usage().free_blocks, 0u);
    EXPECT_EQ(contents(file), data.substr(0, written));
    EXPECT_STATUS(store_.write(file, written, "more", 4, ++now_, &written), UMKA_KABI_ENOSPC);
    EXPECT_EQ(written, 0u);
    // Rewriting existing blocks needs no space.
    EXPECT_OK(store_.write(file, 0, "head", 4, ++now_, &written));
    // The root's first block holds 15 entries; the 16th needs a block that is not there.
    for (int index = 1; index < 15; ++index)
        make(kRootInode, "f" + std::to_string(index), NodeKind::Regular);
    uint64_t inode = 0;
    EXPECT_STATUS(store_.create(kRootInode, "x", 1, NodeKind::Regular, 0644, 0, &inode),
                  UMKA_KABI_ENOSPC);
    EXPECT_STATUS(store_.symlink(kRootInode, "y", 1, "t", 1, 0, &inode), UMKA_KABI_ENOSPC);
    EXPECT_OK(store_.check());
    ASSERT_OK(unlink(kRootInode, "fill"));
    EXPECT_EQ(store_.usage().free_blocks, after_entry);
    for (int index = 1; index < 15; ++index)
        ASSERT_OK(unlink(kRootInode, "f" + std::to_string(index)));
    EXPECT_EQ(store_.usage().free_blocks, free_at_start);
    EXPECT_EQ(store_.usage().free_inodes, store_.usage().total_inodes - 1);
}

TEST_F(TmpfsStore, NoInodeLeftIsNoSpace) {
    format(64 * kBlockSize);
    uint64_t total = store_.usage().total_inodes;
    uint64_t directory = make(kRootInode, "d", NodeKind::Directory);
    for (uint64_t index = 2; index < total; ++index) {
        make(directory, std::to_string(index), NodeKind::Regular);
    }
    uint64_t inode = 0;
    EXPECT_STATUS(store_.create(kRootInode, "x", 1, NodeKind::Regular, 0644, 0, &inode),
                  UMKA_KABI_ENOSPC);
    EXPECT_EQ(store_.usage().free_inodes, 0u);
}

TEST_F(TmpfsStore, HardLinksShareContentsAndCount) {
    uint64_t file = make(kRootInode, "a", NodeKind::Regular);
    uint64_t directory = make(kRootInode, "d", NodeKind::Directory);
    put(file, 0, "shared");
    ASSERT_OK(link(directory, "b", file));
    EXPECT_EQ(find(directory, "b"), file);
    EXPECT_EQ(attributes(file).link_count, 2u);
    EXPECT_STATUS(link(directory, "b", file), UMKA_KABI_EEXIST);
    EXPECT_STATUS(link(kRootInode, "dd", directory), UMKA_KABI_EPERM);
    EXPECT_STATUS(link(file, "x", file), UMKA_KABI_ENOTDIR);
    ASSERT_OK(unlink(kRootInode, "a"));
    EXPECT_EQ(attributes(file).link_count, 1u);
    EXPECT_EQ(contents(file), "shared");
    EXPECT_STATUS(unlink(kRootInode, "d"), UMKA_KABI_EISDIR);
    EXPECT_STATUS(unlink(kRootInode, "a"), UMKA_KABI_ENOENT);
    ASSERT_OK(unlink(directory, "b"));
    Attributes gone{};
    EXPECT_STATUS(store_.attributes(file, &gone), UMKA_KABI_ENOENT);
}

TEST_F(TmpfsStore, SymlinksKeepTheirTarget) {
    uint64_t inode = 0;
    std::string target = "../some/where/else";
    uint64_t free_before = store_.usage().free_blocks;
    ASSERT_OK(store_.symlink(kRootInode, "l", 1, target.data(), target.size(), ++now_, &inode));
    Attributes attributes = this->attributes(inode);
    EXPECT_EQ(attributes.mode, 0120777u);
    EXPECT_EQ(attributes.kind, NodeKind::Symlink);
    EXPECT_EQ(attributes.size, target.size());
    char buffer[64] = {};
    uint32_t length = 0;
    ASSERT_OK(store_.read_link(inode, buffer, sizeof(buffer), &length));
    EXPECT_EQ(std::string(buffer, length), target);
    char small[4] = {};
    ASSERT_OK(store_.read_link(inode, small, sizeof(small), &length));
    EXPECT_EQ(length, target.size());
    EXPECT_EQ(std::string(small, 4), "../s");
    EXPECT_STATUS(store_.read_link(kRootInode, buffer, sizeof(buffer), &length), UMKA_KABI_EINVAL);
    uint64_t transferred = 0;
    EXPECT_STATUS(store_.read(inode, 0, buffer, 4, &transferred), UMKA_KABI_EINVAL);
    std::string longest(kMaximumLinkTarget, 't');
    uint64_t other = 0;
    ASSERT_OK(store_.symlink(kRootInode, "m", 1, longest.data(), longest.size(), 0, &other));
    ASSERT_OK(store_.read_link(other, nullptr, 0, &length));
    EXPECT_EQ(length, kMaximumLinkTarget);
    EXPECT_STATUS(store_.symlink(kRootInode, "n", 1, longest.data(), 4096, 0, &other),
                  UMKA_KABI_ENAMETOOLONG);
    EXPECT_STATUS(store_.symlink(kRootInode, "n", 1, "", 0, 0, &other), UMKA_KABI_EINVAL);
    EXPECT_STATUS(store_.symlink(kRootInode, "l", 1, "x", 1, 0, &other), UMKA_KABI_EEXIST);
    ASSERT_OK(unlink(kRootInode, "l"));
    ASSERT_OK(unlink(kRootInode, "m"));
    EXPECT_EQ(store_.usage().free_blocks, free_before);
}

TEST_F(TmpfsStore, RenameFollowsLinuxRules) {
    uint64_t a = make(kRootInode, "a", NodeKind::Directory);
    uint64_t b = make(kRootInode, "b", NodeKind::Directory);
    uint64_t file = make(a, "file", NodeKind::Regular);
    uint64_t other = make(a, "other", NodeKind::Regular);
    put(file, 0, "one");
    put(other, 0, "two");

    ASSERT_OK(rename(a, "file", a, "renamed"));  // plain rename in one directory
    EXPECT_EQ(find(a, "renamed"), file);
    uint64_t inode = 0;
    EXPECT_STATUS(lookup(a, "file", &inode), UMKA_KABI_ENOENT);
    EXPECT_STATUS(rename(a, "file", a, "x"), UMKA_KABI_ENOENT);

    ASSERT_OK(rename(a, "renamed", a, "other"));  // file over file: the target is unlinked
    EXPECT_EQ(find(a, "other"), file);
    Attributes gone{};
    EXPECT_STATUS(store_.attributes(other, &gone), UMKA_KABI_ENOENT);
    EXPECT_EQ(contents(file), "one");

    ASSERT_OK(link(b, "hard", file));  // same inode under both names: nothing happens
    ASSERT_OK(rename(a, "other", b, "hard"));
    EXPECT_EQ(find(a, "other"), file);
    EXPECT_EQ(find(b, "hard"), file);
    EXPECT_EQ(attributes(file).link_count, 2u);
    ASSERT_OK(unlink(b, "hard"));

    uint64_t moving = make(a, "moving", NodeKind::Directory);
    uint64_t inner = make(moving, "inner", NodeKind::Directory);
    EXPECT_STATUS(rename(a, "moving", moving, "self"), UMKA_KABI_EINVAL);
    EXPECT_STATUS(rename(a, "moving", inner, "deeper"), UMKA_KABI_EINVAL);
    EXPECT_STATUS(rename(kRootInode, "a", inner, "loop"), UMKA_KABI_EINVAL);

    EXPECT_STATUS(rename(a, "moving", a, "other"), UMKA_KABI_ENOTDIR);  // dir over file
    EXPECT_STATUS(rename(a, "other", a, "moving"), UMKA_KABI_EISDIR);   // file over dir
    uint64_t full = make(b, "full", NodeKind::Directory);
    make(full, "content", NodeKind::Regular);
    EXPECT_STATUS(rename(a, "moving", b, "full"), UMKA_KABI_ENOTEMPTY);
    EXPECT_STATUS(rename(a, "moving", b, ".."), UMKA_KABI_EINVAL);

    // Moving a directory to another parent moves a link count and its "..".
    EXPECT_EQ(attributes(a).link_count, 3u);
    EXPECT_EQ(attributes(b).link_count, 3u);
    ASSERT_OK(rename(a, "moving", b, "moved"));
    EXPECT_EQ(find(b, "moved"), moving);
    EXPECT_EQ(find(moving, ".."), b);
    EXPECT_EQ(find(inner, ".."), moving);
    EXPECT_EQ(attributes(a).link_count, 2u);
    EXPECT_EQ(attributes(b).link_count, 4u);
    EXPECT_OK(store_.check());

    // Directory over an empty directory: the empty one is removed, counts stay right.
    uint64_t empty = make(a, "empty", NodeKind::Directory);
    EXPECT_EQ(attributes(a).link_count, 3u);
    ASSERT_OK(rename(b, "moved", a, "empty"));
    EXPECT_EQ(find(a, "empty"), moving);
    EXPECT_EQ(find(moving, ".."), a);
    EXPECT_STATUS(store_.attributes(empty, &gone), UMKA_KABI_ENOENT);
    EXPECT_EQ(attributes(a).link_count, 3u);
    EXPECT_EQ(attributes(b).link_count, 3u);
    uint64_t sibling = make(a, "sibling", NodeKind::Directory);
    ASSERT_OK(rename(a, "empty", a, "sibling"));  // same parent, over an empty directory
    EXPECT_EQ(find(a, "sibling"), moving);
    EXPECT_STATUS(store_.attributes(sibling, &gone), UMKA_KABI_ENOENT);
    EXPECT_EQ(attributes(a).link_count, 3u);
    EXPECT_EQ(list(a), (std::vector<std::string>{".", "..", "other", "sibling"}));
}

TEST_F(TmpfsStore, RemoveDirectoryRules) {
    uint64_t directory = make(kRootInode, "d", NodeKind::Directory);
    make(directory, "f", NodeKind::Regular);
    make(kRootInode, "file", NodeKind::Regular);
    EXPECT_STATUS(rmdir(kRootInode, "d"), UMKA_KABI_ENOTEMPTY);
    EXPECT_STATUS(rmdir(kRootInode, "file"), UMKA_KABI_ENOTDIR);
    EXPECT_STATUS(rmdir(kRootInode, "."), UMKA_KABI_EINVAL);
    EXPECT_STATUS(rmdir(kRootInode, ".."), UMKA_KABI_EBUSY);
    EXPECT_STATUS(rmdir(directory, ".."), UMKA_KABI_ENOTEMPTY);
    EXPECT_STATUS(rmdir(kRootInode, "none"), UMKA_KABI_ENOENT);
    EXPECT_EQ(attributes(kRootInode).link_count, 3u);
    ASSERT_OK(unlink(directory, "f"));
    ASSERT_OK(rmdir(kRootInode, "d"));
    EXPECT_EQ(attributes(kRootInode).link_count, 2u);
    Attributes gone{};
    EXPECT_STATUS(store_.attributes(directory, &gone), UMKA_KABI_ENOENT);
}

TEST_F(TmpfsStore, ReadDirectoryIsCompleteAndStableWhileDeleting) {
    std::set<std::string> names;
    for (int index = 0; index < 100; ++index) {
        names.insert("entry-" + std::to_string(index));
        make(kRootInode, "entry-" + std::to_string(index), NodeKind::Regular);
    }
    std::vector<std::string> listed = list(kRootInode);
    ASSERT_EQ(listed.size(), 102u);
    EXPECT_EQ(listed[0], ".");
    EXPECT_EQ(listed[1], "..");
    EXPECT_EQ(std::set<std::string>(listed.begin() + 2, listed.end()), names);

    // Delete the entry just returned and, every third step, one not yet seen: every entry
    // that still exists when the cursor passes it is seen exactly once.
    std::set<std::string> seen;
    std::set<std::string> deleted_unseen;
    Entry entry{};
    uint64_t cookie = 2;
    uint64_t next = 0;
    int step = 0;
    while (store_.read_directory(kRootInode, cookie, &entry, &next).is_ok()) {
        std::string name(entry.name, entry.name_length);
        EXPECT_TRUE(seen.insert(name).second) << name;
        EXPECT_EQ(deleted_unseen.count(name), 0u);
        ASSERT_OK(unlink(kRootInode, name));
        if (++step % 3 == 0) {
            for (const std::string& candidate : names) {
                if (!seen.count(candidate) && !deleted_unseen.count(candidate)) {
                    ASSERT_OK(unlink(kRootInode, candidate));
                    deleted_unseen.insert(candidate);
                    break;
                }
            }
        }
        cookie = next;
    }
    EXPECT_EQ(seen.size() + deleted_unseen.size(), names.size());
    EXPECT_EQ(list(kRootInode).size(), 2u);
    EXPECT_EQ(attributes(kRootInode).size, 0u);  // trailing empty blocks were given back
    Entry unused{};
    EXPECT_STATUS(store_.read_directory(kRootInode, 2, &unused, &next), UMKA_KABI_ENOENT);
    EXPECT_STATUS(store_.read_directory(999999, 0, &unused, &next), UMKA_KABI_ENOENT);
}

TEST_F(TmpfsStore, RetainedInodeOutlivesItsLastName) {
    uint64_t file = make(kRootInode, "open", NodeKind::Regular);
    put(file, 0, std::string(9000, 'o'));
    uint64_t free_inodes = store_.usage().free_inodes;
    uint64_t free_blocks = store_.usage().free_blocks;
    ASSERT_OK(store_.retain(file));
    ASSERT_OK(store_.retain(file));
    ASSERT_OK(unlink(kRootInode, "open"));
    EXPECT_EQ(attributes(file).link_count, 0u);
    put(file, 9000, "still writable");
    EXPECT_EQ(contents(file), std::string(9000, 'o') + "still writable");
    EXPECT_OK(store_.check());
    ASSERT_OK(store_.release(file));
    EXPECT_EQ(attributes(file).size, 9014u);
    ASSERT_OK(store_.release(file));
    Attributes gone{};
    EXPECT_STATUS(store_.attributes(file, &gone), UMKA_KABI_ENOENT);
    EXPECT_EQ(store_.usage().free_inodes, free_inodes + 1);
    // Three data blocks, and the root's only directory block went with the last name.
    EXPECT_EQ(store_.usage().free_blocks, free_blocks + 4);
    EXPECT_STATUS(store_.release(file), UMKA_KABI_ENOENT);

    uint64_t directory = make(kRootInode, "cwd", NodeKind::Directory);
    ASSERT_OK(store_.retain(directory));
    ASSERT_OK(rmdir(kRootInode, "cwd"));
    EXPECT_EQ(attributes(directory).link_count, 0u);
    uint64_t inode = 0;
    EXPECT_STATUS(store_.create(directory, "x", 1, NodeKind::Regular, 0644, 0, &inode),
                  UMKA_KABI_ENOENT);
    EXPECT_EQ(list(directory), (std::vector<std::string>{".", ".."}));
    EXPECT_OK(store_.check());
    ASSERT_OK(store_.release(directory));
    EXPECT_STATUS(store_.attributes(directory, &gone), UMKA_KABI_ENOENT);
    uint64_t kept = make(kRootInode, "kept", NodeKind::Regular);
    ASSERT_OK(store_.retain(kept));
    ASSERT_OK(store_.release(kept));
    EXPECT_EQ(find(kRootInode, "kept"), kept);
    EXPECT_STATUS(store_.release(kept), UMKA_KABI_EINVAL);
}

TEST_F(TmpfsStore, AttachAfterSwapSeesTheSameTree) {
    uint64_t directory = make(kRootInode, "etc", NodeKind::Directory);
    uint64_t file = make(directory, "motd", NodeKind::Regular);
    put(file, 0, "welcome");
    uint64_t link_inode = 0;
    ASSERT_OK(store_.symlink(kRootInode, "motd", 4, "etc/motd", 8, ++now_, &link_inode));
    Usage before = store_.usage();

    // The successor gets the same bytes at another address.
    ArenaMemory moved = make_arena(length_);
    std::memcpy(moved.get(), arena_.get(), length_);
    Store successor;
    ASSERT_OK(Store::attach(moved.get(), length_, &successor));
    EXPECT_OK(successor.check());
    uint64_t inode = 0;
    ASSERT_OK(successor.lookup(kRootInode, "etc", 3, &inode));
    EXPECT_EQ(inode, directory);
    ASSERT_OK(successor.lookup(directory, "motd", 4, &inode));
    char buffer[16] = {};
    uint64_t transferred = 0;
    ASSERT_OK(successor.read(inode, 0, buffer, sizeof(buffer), &transferred));
    EXPECT_EQ(std::string(buffer, transferred), "welcome");
    uint32_t length = 0;
    ASSERT_OK(successor.read_link(link_inode, buffer, sizeof(buffer), &length));
    EXPECT_EQ(std::string(buffer, length), "etc/motd");
    Usage after = successor.usage();
    EXPECT_EQ(std::memcmp(&before, &after, sizeof(Usage)), 0);
    uint64_t created = 0;
    ASSERT_OK(successor.create(directory, "new", 3, NodeKind::Regular, 0600, 0, &created));
    EXPECT_OK(successor.check());
}

TEST_F(TmpfsStore, AttachRefusesACorruptHeader) {
    make(kRootInode, "x", NodeKind::Regular);
    Store untouched;
    std::vector<uint8_t> original(arena_.get(), arena_.get() + kBlockSize);
    auto refuses = [&](uint64_t length, auto&& corrupt) {
        std::memcpy(arena_.get(), original.data(), kBlockSize);
        corrupt(reinterpret_cast<layout::ArenaHeader*>(arena_.get()));
        Store attached = untouched;
        EXPECT_STATUS(Store::attach(arena_.get(), length, &attached), UMKA_KABI_EBADMSG);
        EXPECT_EQ(std::memcmp(&attached, &untouched, sizeof(Store)), 0);
    };
    refuses(length_, [](layout::ArenaHeader* header) { header->magic ^= 1; });
    refuses(length_, [](layout::ArenaHeader* header) { header->version = 2; });
    refuses(length_, [](layout::ArenaHeader* header) { header->inode_count += 1; });
    refuses(length_, [](layout::ArenaHeader* header) { header->data_block -= 1; });
    refuses(length_, [](layout::ArenaHeader* header) { header->free_blocks = 1u << 30; });
    refuses(length_ - kBlockSize, [](layout::ArenaHeader*) {});
    refuses(length_, [this](layout::ArenaHeader*) {
        std::memset(arena_.get() + kBlockSize, 0, 128);  // the root inode
    });
    std::memcpy(arena_.get(), original.data(), kBlockSize);
    // The last case zeroed the root inode; a fresh format leaves a valid arena for TearDown.
    format(length_);
    Store again;
    EXPECT_OK(Store::attach(arena_.get(), length_, &again));
}

// A model of the tree the random operations build: path -> file id, id -> contents.
TEST_F(TmpfsStore, RandomOperationsMatchAModel) {
    std::mt19937 random(20240607);
    const std::vector<std::string> directories = {"", "d1", "d2"};
    std::map<std::string, uint64_t> directory_inode = {{"", kRootInode}};
    for (std::string name : {"d1", "d2"}) {
        directory_inode[name] = make(kRootInode, name, NodeKind::Directory);
    }
    std::map<std::string, int> names;  // "dir/name" -> file id
    std::map<int, std::string> files;  // file id -> contents
    int next_id = 0;
    auto pick_path = [&](std::string* directory, std::string* name) {
        *directory = directories[random() % directories.size()];
        *name = "n" + std::to_string(random() % 12);
        return *directory + "/" + *name;
    };
    auto existing = [&]() -> std::string {
        auto it = names.begin();
        std::advance(it, random() % names.size());
        return it->first;
    };
    auto split = [](const std::string& path, std::string* directory, std::string* name) {
        *directory = path.substr(0, path.find('/'));
        *name = path.substr(path.find('/') + 1);
    };
    for (int step = 0; step < 5000; ++step) {
        std::string directory, name;
        int operation = static_cast<int>(random() % 8);
        if (names.empty()) operation = 0;
        if (operation == 0) {
            std::string path = pick_path(&directory, &name);
            uint64_t inode = 0;
            Status status = store_.create(directory_inode[directory], name.data(), name.size(),
                                          NodeKind::Regular, 0644, ++now_, &inode);
            if (names.count(path)) {
                ASSERT_EQ(status.code(), UMKA_KABI_EEXIST);
            } else {
                ASSERT_OK(status);
                names[path] = next_id;
                files[next_id++] = "";
            }
            continue;
        }
        std::string path = existing();
        split(path, &directory, &name);
        uint64_t inode = find(directory_inode[directory], name);
        std::string& data = files[names[path]];
        if (operation <= 2) {
            uint64_t offset = random() % 20000;
            std::string bytes(random() % 6000, static_cast<char>('a' + random() % 26));
            uint64_t written = 0;
            Status status =
                store_.write(inode, offset, bytes.data(), bytes.size(), ++now_, &written);
            if (written < bytes.size()) {
                ASSERT_EQ(status.code(), written ? 0 : UMKA_KABI_ENOSPC);
            }
            if (written == 0) continue;
            if (data.size() < offset + written) data.resize(offset + written, '\0');
            data.replace(offset, written, bytes.substr(0, written));
        } else if (operation == 3) {
            uint64_t size = random() % 30000;
            ASSERT_OK(store_.truncate(inode, size, ++now_));
            data.resize(size, '\0');
        } else if (operation == 4) {
            ASSERT_OK(unlink(directory_inode[directory], name));
            int id = names[path];
            names.erase(path);
            bool still_named = false;
            for (const auto& [other, other_id] : names) still_named |= other_id == id;
            if (!still_named) files.erase(id);
        } else if (operation == 5 || operation == 6) {
            std::string to_directory, to_name;
            std::string to = pick_path(&to_directory, &to_name);
            ASSERT_OK(
                rename(directory_inode[directory], name, directory_inode[to_directory], to_name));
            int id = names[path];
            if (to != path && names.count(to) && names[to] != id) {
                int replaced = names[to];
                names[to] = id;
                names.erase(path);
                bool still_named = false;
                for (const auto& [other, other_id] : names) still_named |= other_id == replaced;
                if (!still_named) files.erase(replaced);
            } else if (!names.count(to)) {
                names.erase(path);
                names[to] = id;
            }
        } else {
            std::string to_directory, to_name;
            std::string to = pick_path(&to_directory, &to_name);
            Status status = link(directory_inode[to_directory], to_name, inode);
            if (names.count(to)) {
                ASSERT_EQ(status.code(), UMKA_KABI_EEXIST);
            } else {
                ASSERT_OK(status);
                names[to] = names[path];
            }
        }
        if (step % 500 == 0) {
            ASSERT_OK(store_.check()) << "step " << step;
        }
    }
    for (const auto& [path, id] : names) {
        std::string directory, name;
        split(path, &directory, &name);
        uint64_t inode = find(directory_inode[directory], name);
        ASSERT_EQ(contents(inode), files[id]) << path;
        size_t links = 0;
        for (const auto& [other, other_id] : names) links += other_id == id;
        EXPECT_EQ(attributes(inode).link_count, links);
    }
    for (const std::string& directory : directories) {
        std::set<std::string> expected = {".", ".."};
        if (directory.empty()) expected.insert({"d1", "d2"});
        for (const auto& [path, id] : names) {
            if (path.substr(0, path.find('/')) == directory) {
                expected.insert(path.substr(path.find('/') + 1));
            }
        }
        std::vector<std::string> listed = list(directory_inode[directory]);
        EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), expected);
        EXPECT_EQ(listed.size(), expected.size());
    }
}

// Whatever a corrupted arena holds, the store must answer with errors and never touch memory
// outside it (run under AddressSanitizer/UBSan).
TEST_F(TmpfsStore, CorruptArenaNeverCrashesReaders) {
    format(160 * kBlockSize);
    uint64_t directory = make(kRootInode, "dir", NodeKind::Directory);
    for (int index = 0; index < 20; ++index) {
        uint64_t file = make(index % 2 ? directory : kRootInode, "f" + std::to_string(index),
                             NodeKind::Regular);
        put(file, index * 1500, std::string(1000 + index * 300, 'z'));
    }
    uint64_t big = make(directory, "big", NodeKind::Regular);
    put(big, 13 * 4096, "indirect");
    put(big, (12 + 1024 + 3) * 4096, "double");
    uint64_t inode = 0;
    ASSERT_OK(store_.symlink(directory, "sym", 3, "target", 6, ++now_, &inode));
    ASSERT_OK(store_.check());
    std::vector<uint8_t> pristine(arena_.get(), arena_.get() + length_);
    uint64_t inode_count = store_.usage().total_inodes;
    auto* header = reinterpret_cast<const layout::ArenaHeader*>(pristine.data());
    uint64_t metadata_end = uint64_t{header->data_block} * kBlockSize;

    std::mt19937 random(99);
    std::vector<char> buffer(64 * 1024);
    int refused = 0;
    for (int round = 0; round < 400; ++round) {
        std::memcpy(arena_.get(), pristine.data(), length_);
        int flips = 1 + static_cast<int>(random() % 40);
        for (int flip = 0; flip < flips; ++flip) {
            // Mostly metadata (inode table, bitmap) and the first data blocks, where the
            // directories and map blocks live; never the header.
            uint64_t limit = random() % 2 ? metadata_end + 16 * kBlockSize : length_;
            uint64_t offset = kBlockSize + random() % (limit - kBlockSize);
            arena_.get()[offset] ^= static_cast<uint8_t>(1 + random() % 255);
        }
        Store attached;
        if (Store::attach(arena_.get(), length_, &attached).is_error()) {
            attached = store_;  // a bad root: the readers must still cope
        }
        if (attached.check().is_error()) ++refused;
        (void)attached.usage();
        for (uint64_t node = 0; node <= inode_count + 2; ++node) {
            Attributes attributes{};
            (void)attached.attributes(node, &attributes);
            uint64_t transferred = 0;
            (void)attached.read(node, 0, buffer.data(), buffer.size(), &transferred);
            (void)attached.read(node, (12 + 1024 + 3) * 4096, buffer.data(), 16, &transferred);
            (void)attached.read(node, 13 * 4096 - 10, buffer.data(), 8192, &transferred);
            uint32_t length = 0;
            (void)attached.read_link(node, buffer.data(), 4096, &length);
            for (const char* name : {".", "..", "dir", "f1", "big", "sym", "nothing"}) {
                (void)attached.lookup(node, name, std::strlen(name), &inode);
            }
            Entry entry{};
            uint64_t cookie = 0;
            uint64_t next = 0;
            for (int count = 0; count < 5000; ++count) {
                if (attached.read_directory(node, cookie, &entry, &next).is_error()) break;
                EXPECT_LE(entry.name_length, kMaximumNameLength);
                cookie = next;
            }
        }
        // Writers are not promised to repair anything, only to stay inside the arena.
        for (uint64_t node = 1; node <= inode_count; node += 3) {
            uint64_t transferred = 0;
            (void)attached.write(node, node * 100, buffer.data(), 5000, 1, &transferred);
            (void)attached.truncate(node, node * 50, 1);
            (void)attached.create(node, "new", 3, NodeKind::Directory, 0755, 1, &inode);
            (void)attached.rename(node, "f1", 2, kRootInode, "moved", 5, 1);
            (void)attached.unlink(node, "f3", 2, 1);
            (void)attached.remove_directory(kRootInode, "dir", 3, 1);
            (void)attached.release(node);
        }
        (void)attached.check();
    }
    EXPECT_GT(refused, 0);
    std::memcpy(arena_.get(), pristine.data(), length_);
}

}  // namespace
}  // namespace umka::tmpfs
