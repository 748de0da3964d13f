#include "path_walk.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace umka::vfs {
namespace {

// A tree of nodes kept in maps, with mounts: a mount point's lookup yields the mounted
// root, whose parent is the mount point's parent, as the VFS's implementation does.
class FakeNamespace final : public Namespace {
public:
    struct Node {
        NodeKind kind = NodeKind::Regular;
        NodeId parent;
        std::map<std::string, NodeId> children;
        std::string target;
    };

    FakeNamespace() {
        root_ = NodeId{1, 1};
        nodes_[key(root_)] = Node{NodeKind::Directory, root_, {}, {}};
    }

    // Mirrors a host tree, so inode numbers are the host's st_ino.
    explicit FakeNamespace(uint64_t root_inode) {
        root_ = NodeId{1, root_inode};
        nodes_[key(root_)] = Node{NodeKind::Directory, root_, {}, {}};
    }

    NodeId root() override { return root_; }

    Status lookup(NodeId directory, const char* name, uint32_t length, NodeId* child) override {
        ++lookups;
        EXPECT_FALSE(std::string_view(name, length) == "." ||
                     std::string_view(name, length) == "..");
        auto found = nodes_.find(key(directory));
        if (found == nodes_.end()) return UMKA_KABI_EIO;
        if (found->second.kind != NodeKind::Directory) return UMKA_KABI_ENOTDIR;
        auto entry = found->second.children.find(std::string(name, length));
        if (entry == found->second.children.end()) return UMKA_KABI_ENOENT;
        if (entry->second == failing) return UMKA_KABI_EIO;
        auto mounted = mounts_.find(key(entry->second));
        *child = mounted == mounts_.end() ? entry->second : mounted->second;
        return Status::ok();
    }

    Status parent(NodeId directory, NodeId* parent) override {
        auto found = nodes_.find(key(directory));
        if (found == nodes_.end()) return UMKA_KABI_EIO;
        *parent = found->second.parent;
        return Status::ok();
    }

    Status kind(NodeId node, NodeKind* kind) override {
        auto found = nodes_.find(key(node));
        if (found == nodes_.end()) return UMKA_KABI_EIO;
        *kind = found->second.kind;
        return Status::ok();
    }

    Status read_link(NodeId node, char* buffer, uint32_t capacity, uint32_t* length) override {
        EXPECT_EQ(capacity, kPathMaximum);
        auto found = nodes_.find(key(node));
        if (found == nodes_.end() || found->second.kind != NodeKind::Symlink) {
            return UMKA_KABI_EINVAL;
        }
        const std::string& target = found->second.target;
        if (target.size() > capacity) return UMKA_KABI_ENAMETOOLONG;
        if (!target.empty()) __builtin_memcpy(buffer, target.data(), target.size());
        *length = static_cast<uint32_t>(target.size());
        return Status::ok();
    }

    NodeId add(NodeId directory, const std::string& name, NodeKind kind,
               const std::string& target = {}) {
        NodeId node{directory.mount, next_inode_++};
        return add_with_id(directory, name, node, kind, target);
    }

    NodeId add_with_id(NodeId directory, const std::string& name, NodeId node, NodeKind kind,
                       const std::string& target = {}) {
        nodes_[key(node)] = Node{kind, directory, {}, target};
        nodes_.at(key(directory)).children[name] = node;
        return node;
    }

    NodeId directory(NodeId parent, const std::string& name) {
        return add(parent, name, NodeKind::Directory);
    }
    NodeId file(NodeId parent, const std::string& name) {
        return add(parent, name, NodeKind::Regular);
    }
    NodeId link(NodeId parent, const std::string& name, const std::string& target) {
        return add(parent, name, NodeKind::Symlink, target);
    }

    // Covers `mount_point` with the root of a new file system numbered `mount`.
    NodeId mount(NodeId mount_point, uint32_t mount) {
        NodeId mounted_root{mount, 1};
        nodes_[key(mounted_root)] =
            Node{NodeKind::Directory, nodes_.at(key(mount_point)).parent, {}, {}};
        mounts_[key(mount_point)] = mounted_root;
        return mounted_root;
    }

    // Makes the walk's root a subtree, as a chroot does; parent() still goes above it.
    void set_root(NodeId root) { root_ = root; }

    NodeId failing{0xffffffff, 0};
    int lookups = 0;

private:
    using Key = std::pair<uint32_t, uint64_t>;
    static Key key(NodeId node) { return {node.mount, node.inode}; }

    NodeId root_;
    uint64_t next_inode_ = 2;
    std::map<Key, Node> nodes_;
    std::map<Key, NodeId> mounts_;
};

struct Outcome {
    Status status;
    Resolved resolved;
};

Outcome walk(FakeNamespace& ns, NodeId start, std::string_view path,
             FinalLink final_link = FinalLink::Follow) {
    Outcome outcome{};
    // Poisoned, so a field resolve() forgets to set shows up as garbage.
    __builtin_memset(static_cast<void*>(&outcome.resolved), 0xa5, sizeof outcome.resolved);
    outcome.status = resolve(ns, start, path.data(), static_cast<uint32_t>(path.size()), final_link,
                             &outcome.resolved);
    return outcome;
}

std::string last_of(const Resolved& resolved) {
    EXPECT_EQ(resolved.last[resolved.last_length], '\0');
    return std::string(resolved.last, resolved.last_length);
}

// An existing node reached by `path`, with its parent and last name.
void expect_exists(const Outcome& outcome, NodeId node, NodeId parent, const std::string& last,
                   NodeKind kind) {
    ASSERT_TRUE(outcome.status.is_ok()) << "error " << outcome.status.code();
    EXPECT_EQ(outcome.resolved.presence, Presence::Exists);
    EXPECT_EQ(outcome.resolved.node, node);
    EXPECT_EQ(outcome.resolved.parent, parent);
    EXPECT_EQ(last_of(outcome.resolved), last);
    EXPECT_EQ(outcome.resolved.kind, kind);
}

void expect_missing(const Outcome& outcome, NodeId parent, const std::string& last) {
    ASSERT_TRUE(outcome.status.is_ok()) << "error " << outcome.status.code();
    EXPECT_EQ(outcome.resolved.presence, Presence::Missing);
    EXPECT_EQ(outcome.resolved.parent, parent);
    EXPECT_EQ(last_of(outcome.resolved), last);
    EXPECT_FALSE(outcome.resolved.last_is_dot);
}

void expect_error(const Outcome& outcome, int32_t code) {
    EXPECT_EQ(outcome.status.code(), code);
}

// /a/b/c (directory), /a/f (file), /d (directory).
class PathWalkTest : public ::testing::Test {
protected:
    FakeNamespace ns;
    NodeId root = ns.root();
    NodeId a = ns.directory(root, "a");
    NodeId b = ns.directory(a, "b");
    NodeId c = ns.directory(b, "c");
    NodeId f = ns.file(a, "f");
    NodeId d = ns.directory(root, "d");
};

TEST_F(PathWalkTest, AbsolutePathStartsAtRootWhateverTheStart) {
    Outcome outcome = walk(ns, d, "/a/b");
    expect_exists(outcome, b, a, "b", NodeKind::Directory);
    EXPECT_FALSE(outcome.resolved.trailing_slash);
    EXPECT_FALSE(outcome.resolved.last_is_dot);
    expect_exists(walk(ns, d, "/a/f"), f, a, "f", NodeKind::Regular);
}

TEST_F(PathWalkTest, RelativePathStartsAtStart) {
    expect_exists(walk(ns, a, "b/c"), c, b, "c", NodeKind::Directory);
    expect_exists(walk(ns, a, "f"), f, a, "f", NodeKind::Regular);
    expect_missing(walk(ns, d, "b"), d, "b");
}

TEST_F(PathWalkTest, RepeatedSlashesAreOne) {
    expect_exists(walk(ns, d, "//a///b"), b, a, "b", NodeKind::Directory);
    expect_exists(walk(ns, root, "a////b//c"), c, b, "c", NodeKind::Directory);
}

TEST_F(PathWalkTest, RootItself) {
    for (std::string_view path : {"/", "//", "///////"}) {
        Outcome outcome = walk(ns, c, path);
        expect_exists(outcome, root, root, "", NodeKind::Directory);
        EXPECT_FALSE(outcome.resolved.last_is_dot);
        EXPECT_FALSE(outcome.resolved.trailing_slash);
    }
}

TEST_F(PathWalkTest, DotStays) {
    expect_exists(walk(ns, root, "./a/./b/."), b, a, ".", NodeKind::Directory);
    expect_exists(walk(ns, root, "a/././b"), b, a, "b", NodeKind::Directory);
    Outcome outcome = walk(ns, b, ".");
    expect_exists(outcome, b, a, ".", NodeKind::Directory);
    EXPECT_TRUE(outcome.resolved.last_is_dot);
}

TEST_F(PathWalkTest, DotDotGoesToParent) {
    expect_exists(walk(ns, root, "a/b/c/../../f"), f, a, "f", NodeKind::Regular);
    Outcome outcome = walk(ns, c, "..");
    expect_exists(outcome, b, a, "..", NodeKind::Directory);
    EXPECT_TRUE(outcome.resolved.last_is_dot);
    outcome = walk(ns, root, "/a/b/../");
    expect_exists(outcome, a, root, "..", NodeKind::Directory);
    EXPECT_TRUE(outcome.resolved.trailing_slash);
}

TEST_F(PathWalkTest, DotDotAtRootStaysAtRoot) {
    expect_exists(walk(ns, root, "/../../a"), a, root, "a", NodeKind::Directory);
    expect_exists(walk(ns, root, ".."), root, root, "..", NodeKind::Directory);
    expect_exists(walk(ns, c, "/.."), root, root, "..", NodeKind::Directory);
    expect_exists(walk(ns, a, "../../../a/b"), b, a, "b", NodeKind::Directory);
}

TEST_F(PathWalkTest, DotDotAtAChrootRootStaysThere) {
    ns.set_root(a);
    expect_exists(walk(ns, b, "../../../b"), b, a, "b", NodeKind::Directory);
    expect_exists(walk(ns, c, "/.."), a, a, "..", NodeKind::Directory);
    expect_missing(walk(ns, c, "/d"), a, "d");
}

TEST_F(PathWalkTest, DotDotCrossesAMountPoint) {
    NodeId mount_point = ns.directory(root, "mnt");
    NodeId mounted_root = ns.mount(mount_point, 2);
    NodeId inner = ns.directory(mounted_root, "x");
    expect_exists(walk(ns, root, "/mnt"), mounted_root, root, "mnt", NodeKind::Directory);
    expect_exists(walk(ns, root, "/mnt/x"), inner, mounted_root, "x", NodeKind::Directory);
    expect_exists(walk(ns, root, "/mnt/x/.."), mounted_root, root, "..", NodeKind::Directory);
    expect_exists(walk(ns, root, "/mnt/x/../../a"), a, root, "a", NodeKind::Directory);
    expect_exists(walk(ns, inner, "../../d"), d, root, "d", NodeKind::Directory);
    expect_exists(walk(ns, inner, "../.."), root, root, "..", NodeKind::Directory);
}

TEST_F(PathWalkTest, IntermediateNonDirectoryIsNotADirectory) {
    expect_error(walk(ns, root, "/a/f/x"), UMKA_KABI_ENOTDIR);
    expect_error(walk(ns, root, "/a/f/."), UMKA_KABI_ENOTDIR);
    expect_error(walk(ns, root, "/a/f/.."), UMKA_KABI_ENOTDIR);
    expect_error(walk(ns, root, "a/f/missing"), UMKA_KABI_ENOTDIR);
}

TEST_F(PathWalkTest, RelativeWalkFromANonDirectoryIsNotADirectory) {
    expect_error(walk(ns, f, "x"), UMKA_KABI_ENOTDIR);
    expect_error(walk(ns, f, "."), UMKA_KABI_ENOTDIR);
    expect_exists(walk(ns, f, "/a"), a, root, "a", NodeKind::Directory);
}

TEST_F(PathWalkTest, MissingIntermediateIsNoEntry) {
    expect_error(walk(ns, root, "/a/missing/x"), UMKA_KABI_ENOENT);
    expect_error(walk(ns, root, "missing/."), UMKA_KABI_ENOENT);
    expect_error(walk(ns, root, "missing/.."), UMKA_KABI_ENOENT);
}

TEST_F(PathWalkTest, MissingFinalIsMissingWithParentAndLast) {
    Outcome outcome = walk(ns, root, "/a/b/new");
    expect_missing(outcome, b, "new");
    EXPECT_FALSE(outcome.resolved.trailing_slash);
    expect_missing(walk(ns, c, "../new"), b, "new");
}

TEST_F(PathWalkTest, TrailingSlashOnAFileIsNotADirectory) {
    expect_error(walk(ns, root, "/a/f/"), UMKA_KABI_ENOTDIR);
    expect_error(walk(ns, root, "/a/f//"), UMKA_KABI_ENOTDIR);
    expect_error(walk(ns, root, "/a/f/", FinalLink::NoFollow), UMKA_KABI_ENOTDIR);
}

TEST_F(PathWalkTest, TrailingSlashOnADirectory) {
    Outcome outcome = walk(ns, root, "/a/b//");
    expect_exists(outcome, b, a, "b", NodeKind::Directory);
    EXPECT_TRUE(outcome.resolved.trailing_slash);
}

TEST_F(PathWalkTest, TrailingSlashOnAMissingName) {
    Outcome outcome = walk(ns, root, "/a/new/");
    expect_missing(outcome, a, "new");
    EXPECT_TRUE(outcome.resolved.trailing_slash);
}

TEST_F(PathWalkTest, RelativeSymlinkChainResolvesFromEachLinksDirectory) {
    ns.link(b, "to_f", "../f");
    ns.link(root, "first", "a/b/to_f");
    NodeId hop = ns.link(d, "hop", "../first");
    expect_exists(walk(ns, root, "first"), f, a, "f", NodeKind::Regular);
    expect_exists(walk(ns, d, "hop"), f, a, "f", NodeKind::Regular);
    expect_exists(walk(ns, d, "hop", FinalLink::NoFollow), hop, d, "hop", NodeKind::Symlink);
}

TEST_F(PathWalkTest, AbsoluteSymlinkRestartsAtRoot) {
    ns.link(c, "up", "/a/b");
    expect_exists(walk(ns, root, "a/b/c/up"), b, a, "b", NodeKind::Directory);
    expect_exists(walk(ns, root, "a/b/c/up/c"), c, b, "c", NodeKind::Directory);
    ns.link(c, "slash", "/");
    expect_exists(walk(ns, root, "a/b/c/slash"), root, root, "", NodeKind::Directory);
    expect_exists(walk(ns, root, "a/b/c/slash/d"), d, root, "d", NodeKind::Directory);
}

TEST_F(PathWalkTest, SymlinkToADirectoryInTheMiddle) {
    ns.link(d, "to_b", "../a/b");
    ns.link(d, "to_b_slash", "../a/b/");
    expect_exists(walk(ns, root, "/d/to_b/c"), c, b, "c", NodeKind::Directory);
    expect_exists(walk(ns, root, "/d/to_b/c", FinalLink::NoFollow), c, b, "c", NodeKind::Directory);
    expect_exists(walk(ns, root, "/d/to_b_slash/c"), c, b, "c", NodeKind::Directory);
    expect_exists(walk(ns, root, "/d/to_b/.."), a, root, "..", NodeKind::Directory);
    expect_missing(walk(ns, root, "/d/to_b/new"), b, "new");
}

TEST_F(PathWalkTest, IntermediateSymlinkToAFileIsNotADirectory) {
    ns.link(d, "to_f", "/a/f");
    expect_error(walk(ns, root, "/d/to_f/x"), UMKA_KABI_ENOTDIR);
    expect_error(walk(ns, root, "/d/to_f/", FinalLink::NoFollow), UMKA_KABI_ENOTDIR);
}

// A followed dangling link reports its target's last component as Missing in the target's
// directory: where open(O_CREAT) creates the file, and what stat turns into ENOENT.
TEST_F(PathWalkTest, DanglingFinalSymlink) {
    NodeId dangling = ns.link(d, "dangling", "../a/b/new");
    Outcome outcome = walk(ns, root, "/d/dangling");
    expect_missing(outcome, b, "new");
    EXPECT_FALSE(outcome.resolved.trailing_slash);
    expect_exists(walk(ns, root, "/d/dangling", FinalLink::NoFollow), dangling, d, "dangling",
                  NodeKind::Symlink);
    // The trailing slash follows the link even for lstat, and asks for a directory.
    outcome = walk(ns, root, "/d/dangling/", FinalLink::NoFollow);
    expect_missing(outcome, b, "new");
    EXPECT_TRUE(outcome.resolved.trailing_slash);
    expect_error(walk(ns, root, "/d/dangling/x"), UMKA_KABI_ENOENT);
    ns.link(d, "deep", "/missing/new");
    expect_error(walk(ns, root, "/d/deep"), UMKA_KABI_ENOENT);
}

TEST_F(PathWalkTest, NoFollowReturnsTheFinalLinkItself) {
    NodeId link = ns.link(a, "to_b", "b");
    expect_exists(walk(ns, root, "a/to_b", FinalLink::NoFollow), link, a, "to_b",
                  NodeKind::Symlink);
    expect_exists(walk(ns, root, "a/to_b"), b, a, "b", NodeKind::Directory);
    // A trailing slash follows it anyway.
    Outcome outcome = walk(ns, root, "a/to_b/", FinalLink::NoFollow);
    expect_exists(outcome, b, a, "b", NodeKind::Directory);
    EXPECT_TRUE(outcome.resolved.trailing_slash);
}

TEST_F(PathWalkTest, TrailingSlashInsideALinkTargetAsksForADirectory) {
    ns.link(root, "file_slash", "a/f/");
    ns.link(root, "new_slash", "a/new/");
    expect_error(walk(ns, root, "file_slash"), UMKA_KABI_ENOTDIR);
    Outcome outcome = walk(ns, root, "new_slash");
    expect_missing(outcome, a, "new");
    EXPECT_TRUE(outcome.resolved.trailing_slash);
}

TEST_F(PathWalkTest, FinalLinkToDots) {
    ns.link(c, "dot", ".");
    ns.link(c, "dot_dot", "..");
    expect_exists(walk(ns, root, "a/b/c/dot"), c, b, ".", NodeKind::Directory);
    Outcome outcome = walk(ns, root, "a/b/c/dot_dot");
    expect_exists(outcome, b, a, "..", NodeKind::Directory);
    EXPECT_TRUE(outcome.resolved.last_is_dot);
}

TEST_F(PathWalkTest, SymlinkLoopIsTooManyLinks) {
    NodeId first = ns.link(root, "loop_a", "loop_b");
    ns.link(root, "loop_b", "/loop_a");
    ns.link(root, "self", "self");
    expect_error(walk(ns, root, "loop_a"), UMKA_KABI_ELOOP);
    expect_error(walk(ns, root, "self"), UMKA_KABI_ELOOP);
    expect_error(walk(ns, root, "loop_a/x", FinalLink::NoFollow), UMKA_KABI_ELOOP);
    expect_error(walk(ns, root, "loop_a/", FinalLink::NoFollow), UMKA_KABI_ELOOP);
    expect_exists(walk(ns, root, "loop_a", FinalLink::NoFollow), first, root, "loop_a",
                  NodeKind::Symlink);
}

// link_1 -> link_2 -> ... -> link_<count> -> a/f: resolving link_1 follows `count` links.
void build_chain(FakeNamespace& ns, NodeId directory, int count, const std::string& prefix) {
    for (int index = 1; index <= count; ++index) {
        std::string target =
            index == count ? std::string("/a/f") : prefix + std::to_string(index + 1);
        ns.link(directory, prefix + std::to_string(index), target);
    }
}

TEST_F(PathWalkTest, ChainOfFortyLinksIsFineFortyOneIsTooMany) {
    build_chain(ns, d, 40, "forty_");
    build_chain(ns, d, 41, "forty_one_");
    expect_exists(walk(ns, d, "forty_1"), f, a, "f", NodeKind::Regular);
    expect_exists(walk(ns, d, "forty_2"), f, a, "f", NodeKind::Regular);
    expect_error(walk(ns, d, "forty_one_1"), UMKA_KABI_ELOOP);
    expect_exists(walk(ns, d, "forty_one_2"), f, a, "f", NodeKind::Regular);
    // NoFollow leaves the first link unfollowed; a trailing slash follows all of them.
    Outcome outcome = walk(ns, d, "forty_one_1", FinalLink::NoFollow);
    ASSERT_TRUE(outcome.status.is_ok());
    EXPECT_EQ(outcome.resolved.kind, NodeKind::Symlink);
    expect_error(walk(ns, d, "forty_1/", FinalLink::NoFollow), UMKA_KABI_ENOTDIR);
    expect_error(walk(ns, d, "forty_one_1/", FinalLink::NoFollow), UMKA_KABI_ELOOP);
}

// Links followed one after another along a path count together, as Linux's
// total_link_count does, not only nested ones.
TEST_F(PathWalkTest, LinksAlongOnePathCountTogether) {
    NodeId here = ns.link(b, "here", ".");
    std::string forty = "/a/b";
    for (int index = 0; index < 40; ++index) forty += "/here";
    expect_exists(walk(ns, root, forty + "/c"), c, b, "c", NodeKind::Directory);
    expect_error(walk(ns, root, forty + "/here/c"), UMKA_KABI_ELOOP);
    // The final link is not followed with NoFollow, so it does not count.
    expect_exists(walk(ns, root, forty + "/here", FinalLink::NoFollow), here, b, "here",
                  NodeKind::Symlink);
    expect_error(walk(ns, root, forty + "/here"), UMKA_KABI_ELOOP);
}

TEST_F(PathWalkTest, NameOfTwoHundredFiftyFiveBytesIsFineTwoHundredFiftySixIsTooLong) {
    std::string longest(kNameMaximum, 'n');
    std::string too_long(kNameMaximum + 1, 'n');
    NodeId node = ns.file(a, longest);
    Outcome outcome = walk(ns, root, "/a/" + longest);
    expect_exists(outcome, node, a, longest, NodeKind::Regular);
    EXPECT_EQ(outcome.resolved.last_length, kNameMaximum);
    expect_missing(walk(ns, root, "/d/" + longest), d, longest);
    expect_error(walk(ns, root, "/a/" + too_long), UMKA_KABI_ENAMETOOLONG);
    expect_error(walk(ns, root, "/a/" + too_long + "/x"), UMKA_KABI_ENAMETOOLONG);
    expect_error(walk(ns, root, "/a/" + too_long + "/"), UMKA_KABI_ENAMETOOLONG);
    // Checked when reached: an earlier component's error wins.
    expect_error(walk(ns, root, "/missing/" + too_long), UMKA_KABI_ENOENT);
    expect_error(walk(ns, root, "/a/f/" + too_long), UMKA_KABI_ENOTDIR);
}

TEST_F(PathWalkTest, PathOfFourThousandNinetyFiveBytesIsFineFourThousandNinetySixIsTooLong) {
    // "/" followed by "./" repeated, then "a/f": 1 + 2 * 2044 + 3 = 4092; pad with slashes.
    std::string path = "/";
    while (path.size() + 2 + 3 <= kPathMaximum - 1) path += "./";
    path += "a/f";
    while (path.size() < kPathMaximum - 1) path.insert(0, "/");
    ASSERT_EQ(path.size(), kPathMaximum - 1);
    expect_exists(walk(ns, root, path), f, a, "f", NodeKind::Regular);
    path.insert(0, "/");
    ASSERT_EQ(path.size(), kPathMaximum);
    expect_error(walk(ns, root, path), UMKA_KABI_ENAMETOOLONG);
    EXPECT_EQ(ns.lookups, 2);
}

TEST_F(PathWalkTest, EmptyPathIsNoEntry) {
    expect_error(walk(ns, root, ""), UMKA_KABI_ENOENT);
    Resolved resolved;
    EXPECT_EQ(resolve(ns, root, nullptr, 0, FinalLink::Follow, &resolved).code(), UMKA_KABI_ENOENT);
}

TEST_F(PathWalkTest, NulInsideIsInvalid) {
    expect_error(walk(ns, root, std::string_view("a\0b", 3)), UMKA_KABI_EINVAL);
    expect_error(walk(ns, root, std::string_view("a/f\0", 4)), UMKA_KABI_EINVAL);
    EXPECT_EQ(ns.lookups, 0);
}

TEST_F(PathWalkTest, EmptySymlinkTargetIsNoEntry) {
    NodeId empty = ns.link(a, "empty", "");
    expect_error(walk(ns, root, "a/empty"), UMKA_KABI_ENOENT);
    expect_error(walk(ns, root, "a/empty/x"), UMKA_KABI_ENOENT);
    expect_exists(walk(ns, root, "a/empty", FinalLink::NoFollow), empty, a, "empty",
                  NodeKind::Symlink);
}

TEST_F(PathWalkTest, SymlinkTargetStopsAtItsFirstNul) {
    ns.link(a, "truncated", std::string("b\0garbage", 9));
    ns.link(a, "only_nul", std::string("\0b", 2));
    expect_exists(walk(ns, root, "a/truncated/c"), c, b, "c", NodeKind::Directory);
    expect_error(walk(ns, root, "a/only_nul"), UMKA_KABI_ENOENT);
}

TEST_F(PathWalkTest, SymlinkTargetPlusRestTooLongIsNameTooLong) {
    // The target and the rest after the link's name ("/c", 2 bytes) must stay below 4096.
    std::string target = "/a/b";
    while (target.size() < kPathMaximum - 2 - 1) target.insert(1, "/");
    ns.link(root, "fits", target);
    expect_exists(walk(ns, root, "fits/c"), c, b, "c", NodeKind::Directory);
    ns.link(root, "overflows", "/" + target);
    expect_error(walk(ns, root, "overflows/c"), UMKA_KABI_ENAMETOOLONG);
    // Trailing slashes of the path are part of the rest too.
    expect_exists(walk(ns, root, "overflows"), b, a, "b", NodeKind::Directory);
    expect_error(walk(ns, root, "fits///"), UMKA_KABI_ENAMETOOLONG);
    // A target of kPathMaximum bytes can never fit.
    ns.link(root, "huge", std::string(kPathMaximum, '/'));
    expect_error(walk(ns, root, "huge"), UMKA_KABI_ENAMETOOLONG);
}

TEST_F(PathWalkTest, LookupErrorsPropagate) {
    ns.failing = ns.directory(a, "broken");
    expect_error(walk(ns, root, "a/broken"), UMKA_KABI_EIO);
    expect_error(walk(ns, root, "a/broken/x"), UMKA_KABI_EIO);
}

// --- Differential test against the host kernel -------------------------------------------

struct Query {
    std::string start;  // a real directory, relative to the tree's root ("." for the root)
    std::string path;
    bool follow;
};

struct HostAnswer {
    int error;
    uint64_t inode;
};

void mirror_into(FakeNamespace& ns, const std::filesystem::path& directory, NodeId node) {
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
        struct stat status {};
        ASSERT_EQ(::lstat(entry.path().c_str(), &status), 0);
        NodeId child{1, status.st_ino};
        std::string name = entry.path().filename().string();
        if (S_ISDIR(status.st_mode)) {
            ns.add_with_id(node, name, child, NodeKind::Directory);
            mirror_into(ns, entry.path(), child);
        } else if (S_ISLNK(status.st_mode)) {
            ns.add_with_id(node, name, child, NodeKind::Symlink,
                           std::filesystem::read_symlink(entry.path()).string());
        } else {
            ns.add_with_id(node, name, child, NodeKind::Regular);
        }
    }
}

class RandomTree {
public:
    explicit RandomTree(uint32_t seed) : random_(seed) {}

    std::string pick(const std::vector<std::string>& choices) {
        return choices[random_() % choices.size()];
    }
    uint32_t below(uint32_t bound) { return random_() % bound; }

    // Up to `count` names, dots and empty components (doubled slashes), maybe absolute.
    std::string random_path(uint32_t count, bool allow_absolute) {
        static const std::vector<std::string> pieces = {"a", "b", "c", "l",  "m",
                                                        "a", "b", ".", "..", ""};
        std::string path = allow_absolute && below(4) == 0 ? "/" : "";
        uint32_t components = 1 + below(count);
        for (uint32_t index = 0; index < components; ++index) {
            if (index != 0) path += "/";
            path += pick(pieces);
        }
        if (below(5) == 0) path += "/";
        if (path.empty()) path = ".";
        return path;
    }

    void build(const std::filesystem::path& root, std::vector<std::string>& directories) {
        directories.push_back(".");
        static const std::vector<std::string> names = {"a", "b", "c", "l", "m"};
        for (int index = 0; index < 40; ++index) {
            std::string parent = directories[below(directories.size())];
            std::string name = pick(names);
            std::filesystem::path where = root / parent / name;
            std::error_code error;
            if (std::filesystem::symlink_status(where, error).type() !=
                std::filesystem::file_type::not_found) {
                continue;
            }
            uint32_t choice = below(10);
            if (choice < 3) {
                std::filesystem::create_directory(where);
                directories.push_back(parent == "." ? name : parent + "/" + name);
            } else if (choice < 5) {
                int descriptor = ::open(where.c_str(), O_CREAT | O_WRONLY, 0644);
                ASSERT_GE(descriptor, 0);
                ::close(descriptor);
            } else {
                std::filesystem::create_symlink(random_path(4, true), where);
            }
        }
    }

private:
    std::mt19937 random_;
};

int open_in_root(int root_descriptor, const std::string& path, bool follow) {
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
    how.resolve = RESOLVE_IN_ROOT;
    return static_cast<int>(
        ::syscall(SYS_openat2, root_descriptor, path.c_str(), &how, sizeof how));
}

// The host kernel walking with the tree as its root: openat2(RESOLVE_IN_ROOT) maps "/" and
// ".." at the top to the tree, as the fake's root does, and runs the same namei code.
HostAnswer ask_openat2(int root_descriptor, const Query& query) {
    // A relative path from a real directory is that directory's path followed by it.
    std::string path =
        query.path[0] == '/' || query.start == "." ? query.path : query.start + "/" + query.path;
    int descriptor = open_in_root(root_descriptor, path, query.follow);
    if (descriptor < 0) return HostAnswer{errno, 0};
    struct stat status {};
    int result = ::fstat(descriptor, &status);
    ::close(descriptor);
    if (result != 0) return HostAnswer{errno, 0};
    return HostAnswer{0, status.st_ino};
}

// The plain stat/lstat path: a child process chroots into the tree and calls fstatat with
// a descriptor of the start directory in place of AT_FDCWD. Returns false when the sandbox
// refuses chroot.
bool ask_fstatat_in_chroot(const std::filesystem::path& root, const std::vector<Query>& queries,
                           std::vector<HostAnswer>& answers) {
    // The answers first and the completion flag after them keeps both aligned.
    size_t answers_bytes = sizeof(HostAnswer) * queries.size();
    size_t bytes = answers_bytes + sizeof(int);
    void* shared =
        ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) return false;
    auto* results = static_cast<HostAnswer*>(shared);
    auto* done = reinterpret_cast<int*>(static_cast<char*>(shared) + answers_bytes);
    *done = 0;
    pid_t child = ::fork();
    if (child == 0) {
        if (::chroot(root.c_str()) != 0 || ::chdir("/") != 0) ::_exit(1);
        for (size_t index = 0; index < queries.size(); ++index) {
            const Query& query = queries[index];
            int directory = ::open(query.start.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
            if (directory < 0) ::_exit(2);
            struct stat status {};
            int result = ::fstatat(directory, query.path.c_str(), &status,
                                   query.follow ? 0 : AT_SYMLINK_NOFOLLOW);
            results[index] = result == 0 ? HostAnswer{0, status.st_ino} : HostAnswer{errno, 0};
            ::close(directory);
        }
        *done = 1;
        ::_exit(0);
    }
    int wait_status = 0;
    bool answered = child > 0 && ::waitpid(child, &wait_status, 0) == child &&
                    WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0 && *done == 1;
    if (answered) answers.assign(results, results + queries.size());
    ::munmap(shared, bytes);
    return answered;
}

// Compares the kernel's answer with ours: success means the same inode, ENOENT means a
// Missing last component (or ENOENT earlier), any other errno the same errno.
void compare(const HostAnswer& host, const Outcome& ours, const Query& query, const char* oracle) {
    std::string where = std::string(oracle) + ": start '" + query.start + "' path '" + query.path +
                        "' " + (query.follow ? "stat" : "lstat");
    if (host.error == 0) {
        ASSERT_TRUE(ours.status.is_ok()) << where << " error " << ours.status.code();
        ASSERT_EQ(ours.resolved.presence, Presence::Exists) << where;
        ASSERT_EQ(ours.resolved.node.inode, host.inode) << where;
    } else if (host.error == ENOENT) {
        if (ours.status.is_ok()) {
            ASSERT_EQ(ours.resolved.presence, Presence::Missing) << where;
        } else {
            ASSERT_EQ(ours.status.code(), ENOENT) << where;
        }
    } else {
        ASSERT_EQ(ours.status.code(), host.error) << where;
    }
}

TEST(PathWalkDifferentialTest, MatchesTheHostKernel) {
    int compared = 0;
    int chroot_compared = 0;
    std::map<int, int> outcomes;
    for (uint32_t seed = 1; seed <= 10; ++seed) {
        std::filesystem::path root =
            std::filesystem::temp_directory_path() /
            ("umka_path_walk_" + std::to_string(::getpid()) + "_" + std::to_string(seed));
        std::filesystem::remove_all(root);
        std::filesystem::create_directory(root);
        RandomTree tree(seed);
        std::vector<std::string> directories;
        tree.build(root, directories);

        struct stat root_status {};
        ASSERT_EQ(::lstat(root.c_str(), &root_status), 0);
        FakeNamespace ns(root_status.st_ino);
        mirror_into(ns, root, ns.root());

        std::vector<Query> queries;
        for (int index = 0; index < 200; ++index) {
            queries.push_back(Query{directories[tree.below(directories.size())],
                                    tree.random_path(6, true), tree.below(2) == 0});
        }

        int root_descriptor = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        ASSERT_GE(root_descriptor, 0);
        std::vector<Outcome> ours;
        for (const Query& query : queries) {
            Outcome start = walk(ns, ns.root(), query.start, FinalLink::NoFollow);
            ASSERT_TRUE(start.status.is_ok());
            ASSERT_EQ(start.resolved.kind, NodeKind::Directory);
            ours.push_back(walk(ns, start.resolved.node, query.path,
                                query.follow ? FinalLink::Follow : FinalLink::NoFollow));
            HostAnswer host = ask_openat2(root_descriptor, query);
            ++outcomes[host.error];
            compare(host, ours.back(), query, "openat2");
            ++compared;
        }
        ::close(root_descriptor);

        std::vector<HostAnswer> answers;
        if (ask_fstatat_in_chroot(root, queries, answers)) {
            for (size_t index = 0; index < queries.size(); ++index) {
                compare(answers[index], ours[index], queries[index], "chroot fstatat");
                ++chroot_compared;
            }
        }
        std::filesystem::remove_all(root);
    }
    EXPECT_EQ(compared, 2000);
    // Every outcome the walk can have must have come up, or the test proves little.
    EXPECT_GT(outcomes[0], 200);
    EXPECT_GT(outcomes[ENOENT], 100);
    EXPECT_GT(outcomes[ENOTDIR], 20);
    EXPECT_GT(outcomes[ELOOP], 5);
    std::printf(
        "compared %d with openat2 and %d with chrooted fstatat; ok %d ENOENT %d "
        "ENOTDIR %d ELOOP %d\n",
        compared, chroot_compared, outcomes[0], outcomes[ENOENT], outcomes[ENOTDIR],
        outcomes[ELOOP]);
}

}  // namespace
}  // namespace umka::vfs
