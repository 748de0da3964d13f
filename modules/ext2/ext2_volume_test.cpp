// The ext2 core against images e2fsprogs made: reading generated trees, mutating with
// e2fsck and debugfs as the judges, attach after a simulated live swap, read-only mounts.
#include <sys/stat.h>

#include <cstring>

#include "ext2_test_image.h"

namespace umka::ext2::testing {
namespace {

// Reports the first few differences between two models without printing whole files.
void expect_same_tree(const Model& expected, const Model& actual) {
    int reported = 0;
    for (const auto& [path, node] : expected) {
        auto found = actual.find(path);
        if (found == actual.end()) {
            ADD_FAILURE() << "missing " << path;
        } else if (found->second.kind != node.kind || found->second.size != node.size ||
                   found->second.data != node.data || found->second.links != node.links) {
            ADD_FAILURE() << path << ": kind " << int(found->second.kind) << "/" << int(node.kind)
                          << " size " << found->second.size << "/" << node.size << " links "
                          << found->second.links << "/" << node.links << " data "
                          << (found->second.data == node.data ? "same" : "differs");
        } else {
            continue;
        }
        if (++reported > 10) return;
    }
    for (const auto& [path, node] : actual) {
        if (expected.count(path) == 0) {
            ADD_FAILURE() << "unexpected " << path;
            if (++reported > 10) return;
        }
    }
}

// ext2 directories have 2 + subdirectories links whatever the host file system says.
void count_directory_links(Model* model) {
    for (auto& [path, node] : *model) {
        if (node.kind == ModelNode::Kind::Directory) node.links = 2;
    }
    for (auto& [path, node] : *model) {
        if (node.kind != ModelNode::Kind::Directory) continue;
        size_t slash = path.rfind('/');
        if (slash != std::string::npos) (*model)[path.substr(0, slash)].links += 1;
    }
}

void build_tree(const std::string& root, uint32_t block_size) {
    ::mkdir(root.c_str(), 0755);
    ::mkdir((root + "/many").c_str(), 0755);
    for (int index = 0; index < 300; ++index) {
        write_at(root + "/many/file" + std::to_string(index), 0,
                 pattern(static_cast<uint64_t>(index) * 37 % 9000, index));
    }
    ::mkdir((root + "/groups").c_str(), 0755);
    for (int group = 0; group < 10; ++group) {
        std::string directory = root + "/groups/g" + std::to_string(group);
        ::mkdir(directory.c_str(), 0755);
        for (int index = 0; index < 8; ++index) {
            write_at(directory + "/f" + std::to_string(index), 0,
                     pattern(1000 + group * 3000 + index * 777, group * 100 + index));
        }
    }
    write_at(root + "/empty", 0, "");
    ::mkdir((root + "/empty_directory").c_str(), 0755);
    // Through the single and into the double indirect map at every block size.
    write_at(root + "/big", 0, pattern(12 * block_size + 1030 * block_size + 17, 7));
    std::string deep = root + "/deep";
    for (int depth = 0; depth < 30; ++depth) {
        ::mkdir(deep.c_str(), 0755);
        deep += "/level" + std::to_string(depth);
    }
    ::mkdir(deep.c_str(), 0755);
    write_at(deep + "/leaf", 0, "bottom of the tree\n");
    write_at(root + "/sparse", 0, "head");
    write_at(root + "/sparse", (1 << 20) + 5, "tail");
    write_at(root + "/hole_first", 200 * 1024, pattern(5000, 3));
    // Past the double indirect map: triple indirect (1 KiB blocks: beyond 64.26 MiB; 4 KiB:
    // beyond 4 GiB, which also needs i_size_high).
    uint64_t per = block_size / 4;
    uint64_t triple = (12 + per + per * per) * block_size;
    write_at(root + "/triple", triple + 3 * block_size + 100, pattern(3000, 11));
    ::mkdir((root + "/links").c_str(), 0755);
    write_at(root + "/links/a", 0, "shared by three names");
    ::link((root + "/links/a").c_str(), (root + "/links/b").c_str());
    ::link((root + "/links/a").c_str(), (root + "/groups/g3/c").c_str());
    ::symlink("many/file1", (root + "/fast_link").c_str());
    ::symlink(std::string(59, 'f').c_str(), (root + "/link59").c_str());
    ::symlink(std::string(60, 's').c_str(), (root + "/link60").c_str());
    ::symlink(("/" + std::string(300, 'p')).c_str(), (root + "/slow_link").c_str());
    std::string long_name(255, 'n');
    write_at(root + "/" + long_name, 0, "a name of 255 bytes");
    ::mkdir((root + "/" + std::string(254, 'd') + "x").c_str(), 0755);
    write_at(root + "/" + std::string(254, 'd') + "x/" + long_name, 0, "nested");
}

class Ext2Tree : public Ext2Fixture, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(Ext2Tree, GeneratedTreeReadsBackExactly) {
    uint32_t block_size = GetParam();
    std::string tree = directory_.path() + "/tree";
    build_tree(tree, block_size);
    ASSERT_TRUE(make_image(image_, block_size, 32 * 1024, tree));
    const char* reason = nullptr;
    ASSERT_OK(mount(MountMode::ReadOnly, 1 << 20, &reason));
    EXPECT_EQ(volume_.mode(), MountMode::ReadOnly);
    Model expected = scan_host_tree(tree);
    count_directory_links(&expected);
    Model actual = walk_volume(volume_);
    ASSERT_EQ(actual.count("lost+found"), 1u);
    actual.erase("lost+found");
    expect_same_tree(expected, actual);
    // Holes read as zeros between data, and no block backs them.
    Attributes sparse{};
    ASSERT_OK(volume_.attributes(inode_of("sparse"), &sparse));
    EXPECT_LE(sparse.blocks, 8u * block_size / 512);
    Attributes links{};
    ASSERT_OK(volume_.attributes(inode_of("links/b"), &links));
    EXPECT_EQ(links.link_count, 3u);
    EXPECT_EQ(inode_of("links/a"), inode_of("groups/g3/c"));
    Volume::CacheCounters counters = volume_.cache_counters();
    EXPECT_GT(counters.capacity_blocks, 16u);
    EXPECT_GT(counters.misses, 0u);
    EXPECT_EQ(counters.dirty_blocks, 0u);
    unmount();
    expect_clean();
}

INSTANTIATE_TEST_SUITE_P(BlockSizes, Ext2Tree, ::testing::Values(1024u, 2048u, 4096u));

class Ext2Mutation : public Ext2Fixture, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(Ext2Mutation, MutationsPassE2fsckAndDebugfsSeesThem) {
    uint32_t block_size = GetParam();
    // Four block groups: allocation crosses groups, backups of the superblock go stale.
    ASSERT_TRUE(make_image(image_, block_size, block_size == 1024 ? 16 * 1024 : 8 * 1024, "",
                           block_size == 1024 ? "-g 4096" : "-g 512"));
    // A small region: the cache must evict and write back all along.
    ASSERT_OK(mount(MountMode::ReadWrite, 256 * 1024));
    ASSERT_EQ(volume_.mode(), MountMode::ReadWrite);
    Model model;
    auto file = [&](const std::string& path, const std::string& data) {
        model[path] = ModelNode{ModelNode::Kind::File, data, data.size(), 0};
    };
    auto directory = [&](const std::string& path) {
        model[path] = ModelNode{ModelNode::Kind::Directory, "", 0, 0};
    };
    directory("lost+found");
    for (const char* path : {"a", "a/b", "c", "d", "e"}) {
        ASSERT_OK(create(path, NodeKind::Directory)) << path;
        directory(path);
    }
    EXPECT_STATUS(create("a", NodeKind::Regular), UMKA_KABI_EEXIST);
    ASSERT_OK(create("a/f1", NodeKind::Regular));
    ASSERT_OK(put("a/f1", 0, pattern(5000, 1)));
    ASSERT_OK(create("a/b/f2", NodeKind::Regular));
    std::string f2 = pattern(300 * 1024 + 3, 2);
    ASSERT_OK(put("a/b/f2", 0, f2));

    // Grow a file through every map level, then shrink it back across them.
    uint64_t per = block_size / 4;
    uint64_t triple = (12 + per + per * per) * block_size;
    uint64_t double_start = (12 + per) * block_size;
    uint64_t grown = 0;
    ASSERT_OK(create("t", NodeKind::Regular, &grown));
    ASSERT_OK(put("t", 0, "direct"));
    ASSERT_OK(put("t", 13 * block_size, "single"));
    ASSERT_OK(put("t", double_start + 5 * block_size + 7, "double"));
    ASSERT_OK(put("t", triple + per * block_size * 2 + 1, "triple"));
    Attributes attributes{};
    ASSERT_OK(volume_.attributes(grown, &attributes));
    EXPECT_EQ(attributes.size, triple + per * block_size * 2 + 7);
    // 4 data blocks; map blocks: 1 single, 1+1 double, 1+1+1 triple.
    EXPECT_EQ(attributes.blocks, (4u + 6u) * (block_size / 512));
    char probe[8] = {};
    uint64_t transferred = 0;
    ASSERT_OK(volume_.read(grown, triple + per * block_size * 2 - 1, probe, 8, &transferred));
    EXPECT_EQ(transferred, 8u);
    EXPECT_EQ(std::string(probe, 8), std::string("\0\0triple", 8));
    ASSERT_OK(truncate("t", 13 * block_size + 3));
    ASSERT_OK(volume_.attributes(grown, &attributes));
    EXPECT_EQ(attributes.blocks, (2u + 1u) * (block_size / 512));
    ASSERT_OK(truncate("t", 2 << 20));
    ASSERT_OK(put("t", (3 << 20) / 2, "x"));
    std::string t(2 << 20, '\0');
    std::memcpy(t.data(), "direct", 6);
    std::memcpy(t.data() + 13 * block_size, "sin", 3);
    t[(3 << 20) / 2] = 'x';
    file("t", t);

    // Renames with Linux rules.
    ASSERT_OK(create("g1", NodeKind::Regular));
    ASSERT_OK(put("g1", 0, "one"));
    ASSERT_OK(create("g2", NodeKind::Regular));
    ASSERT_OK(put("g2", 0, "two"));
    ASSERT_OK(rename("g1", "g2"));
    file("g2", "one");
    EXPECT_STATUS(rename("a", "a/b/inside"), UMKA_KABI_EINVAL);
    EXPECT_STATUS(rename("a/b", "g2"), UMKA_KABI_ENOTDIR);
    EXPECT_STATUS(rename("g2", "c"), UMKA_KABI_EISDIR);
    ASSERT_OK(rename("a/b", "c/b"));  // a directory across parents: ".." and links move
    ASSERT_OK(create("d/empty", NodeKind::Directory));
    EXPECT_STATUS(rename("c", "a"), UMKA_KABI_ENOTEMPTY);
    ASSERT_OK(rename("a", "d/empty"));  // a directory over an empty directory
    model.erase("a");
    model.erase("a/b");
    directory("c/b");
    directory("d/empty");
    file("c/b/f2", f2);
    file("d/empty/f1", pattern(5000, 1));
    uint64_t parent = 0;
    ASSERT_OK(volume_.lookup(inode_of("c/b"), "..", 2, &parent));
    EXPECT_EQ(parent, inode_of("c"));
    ASSERT_OK(volume_.attributes(inode_of("c"), &attributes));
    EXPECT_EQ(attributes.link_count, 3u);
    ASSERT_OK(volume_.attributes(inode_of("d"), &attributes));
    EXPECT_EQ(attributes.link_count, 3u);

    // Links, unlink, rmdir, symlinks of both kinds, long names.
    ASSERT_OK(link("d/empty/f1", "e/hard"));
    EXPECT_STATUS(link("c", "e/dir_link"), UMKA_KABI_EPERM);
    ASSERT_OK(volume_.attributes(inode_of("e/hard"), &attributes));
    EXPECT_EQ(attributes.link_count, 2u);
    ASSERT_OK(remove("d/empty/f1"));
    model.erase("d/empty/f1");
    file("e/hard", pattern(5000, 1));
    ASSERT_OK(create("x", NodeKind::Directory));
    ASSERT_OK(create("x/y", NodeKind::Regular));
    EXPECT_STATUS(remove_directory("x"), UMKA_KABI_ENOTEMPTY);
    EXPECT_STATUS(remove("x"), UMKA_KABI_EISDIR);
    ASSERT_OK(remove("x/y"));
    ASSERT_OK(remove_directory("x"));
    ASSERT_OK(symlink("s_fast", "d/empty/f1"));
    std::string slow_target = "/" + std::string(200, 'q') + "/end";
    ASSERT_OK(symlink("s_slow", slow_target));
    model["s_fast"] = ModelNode{ModelNode::Kind::Symlink, "d/empty/f1", 10, 0};
    model["s_slow"] = ModelNode{ModelNode::Kind::Symlink, slow_target, slow_target.size(), 0};
    std::string long_name(255, 'L');
    ASSERT_OK(create(long_name, NodeKind::Regular));
    ASSERT_OK(put(long_name, 0, "long"));
    file(long_name, "long");
    EXPECT_STATUS(create(std::string(256, 'L'), NodeKind::Regular), UMKA_KABI_ENAMETOOLONG);

    // A directory over several blocks, thinned out (entries merge) and refilled.
    ASSERT_OK(create("many", NodeKind::Directory));
    directory("many");
    for (int index = 0; index < 200; ++index) {
        std::string path = "many/entry_with_a_longish_name_" + std::to_string(index);
        ASSERT_OK(create(path, NodeKind::Regular)) << path;
        file(path, "");
    }
    for (int index = 0; index < 200; index += 2) {
        std::string path = "many/entry_with_a_longish_name_" + std::to_string(index);
        ASSERT_OK(remove(path)) << path;
        model.erase(path);
    }
    for (int index = 0; index < 60; ++index) {
        std::string path = "many/n" + std::to_string(index);
        ASSERT_OK(create(path, NodeKind::Regular)) << path;
        ASSERT_OK(put(path, 0, std::to_string(index)));
        file(path, std::to_string(index));
    }

    // Fill the disk: the last write is short, then nothing more fits.
    ASSERT_OK(create("filler", NodeKind::Regular));
    uint64_t filler = inode_of("filler");
    std::string filled;
    std::string chunk = pattern(64 * 1024, 9);
    Status status;
    for (int round = 0; round < 10000; ++round) {
        uint64_t written = 0;
        status = volume_.write(filler, filled.size(), chunk.data(), chunk.size(), ++now_, &written);
        filled.append(chunk.data(), written);
        if (status.is_error() || written < chunk.size()) break;
    }
    uint64_t written = 0;
    EXPECT_STATUS(
        volume_.write(filler, filled.size(), chunk.data(), chunk.size(), ++now_, &written),
        UMKA_KABI_ENOSPC);
    EXPECT_EQ(written, 0u);
    EXPECT_LE(volume_.usage().free_blocks, 3u);
    file("filler", filled);
    // Give some back so the tail of the test has room, then check the counts agree.
    ASSERT_OK(truncate("filler", filled.size() / 2));
    filled.resize(filled.size() / 2);
    file("filler", filled);
    EXPECT_GT(volume_.usage().free_blocks, 10u);
    ASSERT_OK(volume_.sync());
    EXPECT_EQ(volume_.cache_counters().dirty_blocks, 0u);
    unmount();
    expect_clean();

    std::string out = directory_.path() + "/out";
    ::mkdir(out.c_str(), 0755);
    std::string transcript;
    ASSERT_EQ(debugfs(image_, "rdump / " + out, false, &transcript), 0) << transcript;
    expect_same_tree(model, scan_host_tree(out, false));

    // And it mounts again clean, with the link counts the operations left.
    ASSERT_OK(mount());
    ASSERT_EQ(volume_.mode(), MountMode::ReadWrite);
    Model reread = walk_volume(volume_, false);
    expect_same_tree(model, reread);
    unmount();
    expect_clean();
}

INSTANTIATE_TEST_SUITE_P(BlockSizes, Ext2Mutation, ::testing::Values(1024u, 4096u));

TEST_F(Ext2Fixture, AttachContinuesAVolumeAfterALiveSwap) {
    ASSERT_TRUE(make_image(image_, 1024, 4 * 1024));
    ASSERT_OK(mount(MountMode::ReadWrite, 512 * 1024));
    ASSERT_OK(create("before", NodeKind::Regular));
    ASSERT_OK(put("before", 0, pattern(70000, 4)));
    ASSERT_OK(create("dir", NodeKind::Directory));
    uint64_t open_inode = 0;
    ASSERT_OK(create("dir/open", NodeKind::Regular, &open_inode));
    ASSERT_OK(put("dir/open", 0, "still open"));
    ASSERT_OK(volume_.retain(open_inode));
    ASSERT_OK(remove("dir/open"));
    EXPECT_GT(volume_.cache_counters().dirty_blocks, 0u);

    // The successor gets the same bytes at another address, and no pointer inside them.
    Region moved(region_->length());
    std::memcpy(moved.data(), region_->data(), region_->length());
    std::memset(region_->data(), 0x5A, region_->length());
    Volume successor;
    EXPECT_STATUS(Volume::attach(moved.data(), moved.length() - 4096, device_.get(), &successor),
                  UMKA_KABI_EBADMSG);
    ASSERT_OK(Volume::attach(moved.data(), moved.length(), device_.get(), &successor));
    EXPECT_EQ(successor.mode(), MountMode::ReadWrite);
    volume_ = successor;
    EXPECT_EQ(contents("before"), pattern(70000, 4));
    EXPECT_EQ(read_whole(volume_, open_inode, 10), "still open");
    ASSERT_OK(put("before", 70000, "appended"));
    ASSERT_OK(create("after", NodeKind::Regular));
    ASSERT_OK(put("after", 0, "written by the successor"));
    ASSERT_OK(volume_.release(open_inode));
    Attributes gone{};
    EXPECT_STATUS(volume_.attributes(open_inode, &gone), UMKA_KABI_ENOENT);
    unmount();
    expect_clean();
    std::string output;
    ASSERT_EQ(debugfs(image_, "cat /after", false, &output), 0);
    EXPECT_NE(output.find("written by the successor"), std::string::npos);

    Volume after_unmount;
    FileDevice device(image_);
    EXPECT_STATUS(Volume::attach(moved.data(), moved.length(), &device, &after_unmount),
                  UMKA_KABI_EBADMSG);
}

TEST_F(Ext2Fixture, OpenUnlinkedFilesLiveUntilReleasedOrUnmounted) {
    ASSERT_TRUE(make_image(image_, 2048, 4 * 1024));
    ASSERT_OK(mount());
    uint64_t before = volume_.usage().free_blocks;
    uint64_t kept = 0;
    ASSERT_OK(create("kept", NodeKind::Regular, &kept));
    ASSERT_OK(put("kept", 0, pattern(100000, 5)));
    ASSERT_OK(volume_.retain(kept));
    ASSERT_OK(remove("kept"));
    uint64_t inode = 0;
    EXPECT_STATUS(volume_.lookup(kRootInode, "kept", 4, &inode), UMKA_KABI_ENOENT);
    EXPECT_EQ(read_whole(volume_, kept, 100000), pattern(100000, 5));
    uint64_t written = 0;
    ASSERT_OK(volume_.write(kept, 100000, "more", 4, ++now_, &written));
    EXPECT_LT(volume_.usage().free_blocks, before);
    // The orphan is freed by unmount, so e2fsck finds nothing dangling.
    unmount();
    expect_clean();
    ASSERT_OK(mount());
    EXPECT_EQ(volume_.usage().free_blocks, before);
    unmount();
}

TEST_F(Ext2Fixture, ReadOnlyMountWritesNothing) {
    std::string tree = directory_.path() + "/tree";
    ::mkdir(tree.c_str(), 0755);
    ::mkdir((tree + "/dir").c_str(), 0755);
    write_at(tree + "/dir/file", 0, pattern(20000, 8));
    ::symlink("dir/file", (tree + "/link").c_str());
    ASSERT_TRUE(make_image(image_, 1024, 2 * 1024, tree));
    std::string hash = file_hash(image_);
    const char* reason = nullptr;
    ASSERT_OK(mount(MountMode::ReadOnly, 256 * 1024, &reason));
    ASSERT_NE(reason, nullptr);
    EXPECT_EQ(volume_.mode(), MountMode::ReadOnly);
    uint64_t file = inode_of("dir/file");
    uint64_t directory = inode_of("dir");
    EXPECT_EQ(contents("dir/file"), pattern(20000, 8));
    uint64_t inode = 0;
    uint64_t written = 0;
    EXPECT_STATUS(create("new", NodeKind::Regular), UMKA_KABI_EROFS);
    EXPECT_STATUS(create("newdir", NodeKind::Directory), UMKA_KABI_EROFS);
    EXPECT_STATUS(volume_.symlink(kRootInode, "s", 1, "t", 1, ++now_, &inode), UMKA_KABI_EROFS);
    EXPECT_STATUS(volume_.write(file, 0, "x", 1, ++now_, &written), UMKA_KABI_EROFS);
    EXPECT_STATUS(volume_.truncate(file, 0, ++now_), UMKA_KABI_EROFS);
    EXPECT_STATUS(volume_.link(kRootInode, "l", 1, file, ++now_), UMKA_KABI_EROFS);
    EXPECT_STATUS(volume_.unlink(directory, "file", 4, ++now_), UMKA_KABI_EROFS);
    EXPECT_STATUS(volume_.remove_directory(kRootInode, "dir", 3, ++now_), UMKA_KABI_EROFS);
    EXPECT_STATUS(volume_.rename(kRootInode, "dir", 3, kRootInode, "moved", 5, ++now_),
                  UMKA_KABI_EROFS);
    ASSERT_OK(volume_.retain(file));
    ASSERT_OK(volume_.release(file));
    ASSERT_OK(volume_.sync());
    unmount();
    EXPECT_EQ(file_hash(image_), hash);

    // A device the caller says is read-only, and volumes that must not be written, come up
    // read-only with the reason named; the image stays untouched.
    auto poke16 = [&](uint64_t offset, uint16_t value) {
        std::string bytes(reinterpret_cast<const char*>(&value), 2);
        write_at(image_, 1024 + offset, bytes);
    };
    poke16(offsetof(layout::Superblock, state), 0);
    hash = file_hash(image_);
    ASSERT_OK(mount(MountMode::ReadWrite, 256 * 1024, &reason));
    EXPECT_EQ(volume_.mode(), MountMode::ReadOnly);
    EXPECT_NE(std::string(reason).find("not cleanly unmounted"), std::string::npos) << reason;
    EXPECT_STATUS(create("new", NodeKind::Regular), UMKA_KABI_EROFS);
    unmount();
    EXPECT_EQ(device_ == nullptr, true);
    EXPECT_EQ(file_hash(image_), hash);
    poke16(offsetof(layout::Superblock, state), layout::kStateValid | layout::kStateError);
    ASSERT_OK(mount(MountMode::ReadWrite, 256 * 1024, &reason));
    EXPECT_EQ(volume_.mode(), MountMode::ReadOnly);
    EXPECT_NE(std::string(reason).find("errors"), std::string::npos) << reason;
    unmount();
    poke16(offsetof(layout::Superblock, state), layout::kStateValid);
    uint32_t ro_compat = layout::kRoCompatSparseSuper | layout::kRoCompatLargeFile | 0x1000;
    write_at(image_, 1024 + offsetof(layout::Superblock, feature_ro_compat),
             std::string(reinterpret_cast<const char*>(&ro_compat), 4));
    ASSERT_OK(mount(MountMode::ReadWrite, 256 * 1024, &reason));
    EXPECT_EQ(volume_.mode(), MountMode::ReadOnly);
    EXPECT_NE(std::string(reason).find("read-only-compatible"), std::string::npos) << reason;
    unmount();
}

// Revision 0 (no s_first_ino, 128-byte inodes, no features) and revision 1 without the
// filetype feature: entries carry no type, so kinds come from the inodes.
class Ext2Variant : public Ext2Fixture, public ::testing::WithParamInterface<const char*> {};

TEST_P(Ext2Variant, MutatesOlderLayouts) {
    ASSERT_TRUE(make_image(image_, 1024, 4 * 1024, "", GetParam()));
    ASSERT_OK(mount());
    ASSERT_EQ(volume_.mode(), MountMode::ReadWrite);
    ASSERT_OK(create("dir", NodeKind::Directory));
    ASSERT_OK(create("dir/file", NodeKind::Regular));
    ASSERT_OK(put("dir/file", 0, pattern(40000, 3)));
    ASSERT_OK(symlink("dir/link", "file"));
    ASSERT_OK(create("other", NodeKind::Directory));
    ASSERT_OK(rename("dir", "other/dir"));
    ASSERT_OK(link("other/dir/file", "hard"));
    Model model = walk_volume(volume_);
    ASSERT_EQ(model.count("other/dir/link"), 1u);
    EXPECT_EQ(model["other/dir/link"].kind, ModelNode::Kind::Symlink);
    EXPECT_EQ(model["other/dir"].kind, ModelNode::Kind::Directory);
    EXPECT_EQ(model["hard"].data, pattern(40000, 3));
    EXPECT_EQ(model["hard"].links, 2u);
    unmount();
    expect_clean();
}

INSTANTIATE_TEST_SUITE_P(Layouts, Ext2Variant, ::testing::Values("-r 0", "-O ^filetype"));

// dir_index is compat: an htree directory reads linearly, and changing it clears
// EXT2_INDEX_FL so e2fsck takes it for the linear directory it now is.
TEST_F(Ext2Fixture, HtreeDirectoriesAreChangedAsLinearOnes) {
    std::string tree = directory_.path() + "/tree";
    ::mkdir(tree.c_str(), 0755);
    ::mkdir((tree + "/big").c_str(), 0755);
    for (int index = 0; index < 400; ++index) {
        write_at(tree + "/big/file_with_a_long_name_" + std::to_string(index), 0,
                 std::to_string(index));
    }
    ASSERT_TRUE(make_image(image_, 1024, 8 * 1024, tree));
    std::string output;
    run("e2fsck -fyD " + quote(image_), &output);  // builds the htree index
    ASSERT_EQ(debugfs(image_, "stat /big", false, &output), 0);
    ASSERT_NE(output.find("Flags: 0x1000"), std::string::npos) << output;
    ASSERT_OK(mount());
    EXPECT_EQ(contents("big/file_with_a_long_name_399"), "399");
    for (int index = 0; index < 400; index += 3) {
        ASSERT_OK(remove("big/file_with_a_long_name_" + std::to_string(index)));
    }
    for (int index = 0; index < 100; ++index) {
        ASSERT_OK(create("big/new_" + std::to_string(index), NodeKind::Regular));
    }
    Model model = walk_volume(volume_);
    EXPECT_EQ(model.size(), 2u + 400u - 134u + 100u);  // lost+found, big and the files
    unmount();
    expect_clean();
    ASSERT_EQ(debugfs(image_, "stat /big", false, &output), 0);
    EXPECT_EQ(output.find("Flags: 0x1000"), std::string::npos) << output;
}

TEST_F(Ext2Fixture, InodesRunOutAndAttributeBlocksAreFreed) {
    ASSERT_TRUE(make_image(image_, 1024, 2 * 1024, "", "-N 48 -I 128"));
    ASSERT_OK(mount());
    ASSERT_OK(create("tagged", NodeKind::Regular));
    ASSERT_OK(put("tagged", 0, "has an attribute block"));
    unmount();
    // 128-byte inodes have no room inside: the attribute goes to a block of its own.
    std::string output;
    ASSERT_EQ(debugfs(image_, "ea_set /tagged user.note " + std::string(100, 'v'), true, &output),
              0)
        << output;
    ASSERT_EQ(debugfs(image_, "stat /tagged", false, &output), 0);
    ASSERT_EQ(output.find("File ACL: 0"), std::string::npos) << output;
    ASSERT_OK(mount());
    uint64_t free_blocks = volume_.usage().free_blocks;
    ASSERT_OK(remove("tagged"));
    EXPECT_EQ(volume_.usage().free_blocks, free_blocks + 2);  // data and attribute block
    int created = 0;
    Status status;
    while ((status = create("f" + std::to_string(created), NodeKind::Regular)).is_ok()) {
        ASSERT_LT(++created, 1000);
    }
    EXPECT_STATUS(status, UMKA_KABI_ENOSPC);
    EXPECT_EQ(volume_.usage().free_inodes, 0u);
    EXPECT_STATUS(symlink("s", "target"), UMKA_KABI_ENOSPC);
    ASSERT_OK(remove("f0"));
    ASSERT_OK(create("d", NodeKind::Directory));
    unmount();
    expect_clean();
}

TEST_F(Ext2Fixture, LargeFilesSetTheLargeFileFeature) {
    ASSERT_TRUE(make_image(image_, 4096, 8 * 1024, "", "-g 1024"));
    // mke2fs sets large_file whatever it is told; debugfs clears it (backups included).
    ASSERT_EQ(debugfs(image_, "feature -large_file", true), 0);
    auto ro_compat = [&] {
        std::string bytes =
            read_file(image_).substr(1024 + offsetof(layout::Superblock, feature_ro_compat), 4);
        uint32_t value = 0;
        std::memcpy(&value, bytes.data(), 4);
        return value;
    };
    ASSERT_EQ(ro_compat() & layout::kRoCompatLargeFile, 0u);
    ASSERT_OK(mount());
    ASSERT_OK(create("small", NodeKind::Regular));
    ASSERT_OK(put("small", (1ull << 31) - 10, "under"));  // ends below 2 GiB
    ASSERT_OK(create("large", NodeKind::Regular));
    ASSERT_OK(put("large", 3ull << 30, "three gigabytes in"));
    ASSERT_OK(put("large", 5ull << 30, "five"));
    Attributes attributes{};
    ASSERT_OK(volume_.attributes(inode_of("large"), &attributes));
    EXPECT_EQ(attributes.size, (5ull << 30) + 4);
    unmount();
    EXPECT_NE(ro_compat() & layout::kRoCompatLargeFile, 0u);
    expect_clean();
    std::string output;
    ASSERT_EQ(debugfs(image_, "stat /large", false, &output), 0);
    EXPECT_NE(output.find("Size: 5368709124"), std::string::npos) << output;
}

TEST_F(Ext2Fixture, LinkCountStopsAt32000) {
    ASSERT_TRUE(make_image(image_, 1024, 2 * 1024));
    ASSERT_OK(mount());
    ASSERT_OK(create("f", NodeKind::Regular));
    ASSERT_OK(create("d", NodeKind::Directory));
    unmount();
    ASSERT_EQ(debugfs(image_, "sif /f links_count 32000", true), 0);
    ASSERT_EQ(debugfs(image_, "sif /d links_count 32000", true), 0);
    ASSERT_OK(mount());
    EXPECT_STATUS(link("f", "g"), UMKA_KABI_EMLINK);
    EXPECT_STATUS(create("d/sub", NodeKind::Directory), UMKA_KABI_EMLINK);
    EXPECT_OK(create("d/file", NodeKind::Regular));
    unmount();
}

// A device that fails on demand: EIO reaches the caller and leaves the volume usable.
class FailingDevice final : public Device {
public:
    explicit FailingDevice(Device* inner) : inner_(inner) {}
    Status read(uint64_t offset, void* buffer, uint32_t length) override {
        return failing_ ? Status(UMKA_KABI_EIO) : inner_->read(offset, buffer, length);
    }
    Status write(uint64_t offset, const void* data, uint32_t length) override {
        return failing_ ? Status(UMKA_KABI_EIO) : inner_->write(offset, data, length);
    }
    Status flush() override { return failing_ ? Status(UMKA_KABI_EIO) : inner_->flush(); }
    bool failing_ = false;

private:
    Device* inner_;
};

TEST_F(Ext2Fixture, DeviceErrorsAnswerEio) {
    std::string tree = directory_.path() + "/tree";
    ::mkdir(tree.c_str(), 0755);
    write_at(tree + "/file", 0, pattern(50000, 6));
    ASSERT_TRUE(make_image(image_, 1024, 2 * 1024, tree));
    FileDevice file(image_);
    FailingDevice device(&file);
    Region region(256 * 1024);
    Volume volume;
    const char* reason = nullptr;
    device.failing_ = true;
    EXPECT_STATUS(Volume::mount(region.data(), region.length(), &device, file.size(),
                                MountMode::ReadWrite, 1, &volume, &reason),
                  UMKA_KABI_EIO);
    EXPECT_NE(reason, nullptr);
    device.failing_ = false;
    ASSERT_OK(Volume::mount(region.data(), region.length(), &device, file.size(),
                            MountMode::ReadWrite, 1, &volume, &reason));
    uint64_t inode = 0;
    ASSERT_OK(volume.lookup(kRootInode, "file", 4, &inode));
    std::string data(50000, '\0');
    uint64_t transferred = 0;
    device.failing_ = true;
    EXPECT_STATUS(volume.read(inode, 0, data.data(), data.size(), &transferred), UMKA_KABI_EIO);
    EXPECT_STATUS(volume.sync(), UMKA_KABI_EIO);
    device.failing_ = false;
    ASSERT_OK(volume.read(inode, 0, data.data(), data.size(), &transferred));
    EXPECT_EQ(data, pattern(50000, 6));
    ASSERT_OK(volume.unmount(2));
    expect_clean();
}

// A clock behind the disk's last recorded time (the module's counts from boot: no wall
// clock) continues from that time, so no time goes backwards and no dtime is small enough
// for e2fsck to take it for an orphan-list link.
TEST_F(Ext2Fixture, ATimeBehindTheDiskContinuesFromItsLastRecordedTime) {
    ASSERT_TRUE(make_image(image_, 1024, 4 * 1024));
    device_ = std::make_unique<FileDevice>(image_);
    now_ = 5ull * 1000000000ull;  // five seconds after boot
    ASSERT_OK(mount(MountMode::ReadWrite, 256 * 1024));
    uint64_t inode = 0;
    ASSERT_OK(create("f", NodeKind::Regular, &inode));
    Attributes attributes{};
    ASSERT_OK(volume_.attributes(inode, &attributes));
    EXPECT_GT(attributes.modified_ns, 1600000000ull * 1000000000ull) << "before the image was made";
    ASSERT_OK(volume_.unlink(kRootInode, "f", 1, now_));
    unmount();
    expect_clean();
}

TEST_F(Ext2Fixture, UsageAndRegionLimits) {
    ASSERT_TRUE(make_image(image_, 4096, 16 * 1024));
    device_ = std::make_unique<FileDevice>(image_);
    Region small(128 * 1024);
    Volume volume;
    const char* reason = nullptr;
    EXPECT_STATUS(Volume::mount(small.data(), small.length(), device_.get(), device_->size(),
                                MountMode::ReadWrite, 1, &volume, &reason),
                  UMKA_KABI_EINVAL);
    EXPECT_NE(reason, nullptr);
    ASSERT_OK(mount(MountMode::ReadWrite, 256 * 1024));
    Usage usage = volume_.usage();
    EXPECT_EQ(usage.block_size, 4096u);
    EXPECT_EQ(usage.total_blocks, 4096u);
    EXPECT_GT(usage.free_blocks, 3000u);
    EXPECT_GT(usage.free_inodes, 100u);
    uint64_t inode = 0;
    ASSERT_OK(create("f", NodeKind::Regular, &inode));
    EXPECT_EQ(volume_.usage().free_inodes, usage.free_inodes - 1);
    Attributes attributes{};
    ASSERT_OK(volume_.attributes(inode, &attributes));
    EXPECT_EQ(attributes.mode, 0100644u);
    EXPECT_EQ(attributes.modified_ns, now_ / 1000000000ull * 1000000000ull);
    EXPECT_STATUS(volume_.attributes(7, &attributes), UMKA_KABI_ENOENT);  // resize inode
    EXPECT_STATUS(volume_.attributes(1u << 30, &attributes), UMKA_KABI_ENOENT);
    unmount();
    expect_clean();
}

}  // namespace
}  // namespace umka::ext2::testing
