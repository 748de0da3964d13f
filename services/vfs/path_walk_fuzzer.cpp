// libFuzzer target over the path walk (path_walk.h): the input is a path, as untrusted as
// any a caller hands the VFS, resolved in a small fixed tree with a mount, symbolic-link
// loops, a link to the root, a long chain and a dangling link.
//
// Invariants: nothing crashes (ASan/UBSan) and the walk's stack stays bounded; an error is
// one of the walk's errnos; a node found exists in the tree with the kind the tree says; a
// missing last name has a directory for its parent; `last` is NUL-terminated within 255
// bytes; the same path resolves the same way twice.
#include <stdint.h>
#include <string.h>

#include "path_walk.h"

namespace {

using umka::vfs::FinalLink;
using umka::vfs::Namespace;
using umka::vfs::NodeId;
using umka::vfs::NodeKind;
using umka::vfs::Presence;
using umka::vfs::Resolved;
using umka::vfs::Status;

struct Node {
    uint32_t mount;
    uint64_t inode;
    NodeKind kind;
    uint32_t parent;  // index in kNodes
    const char* name;
    const char* target;
};

// Index 0 is the root; index 5 is the root of mount 2, covering index 4 ("mnt").
constexpr Node kNodes[] = {
    {1, 1, NodeKind::Directory, 0, "", nullptr},
    {1, 2, NodeKind::Directory, 0, "a", nullptr},
    {1, 3, NodeKind::Directory, 1, "b", nullptr},
    {1, 4, NodeKind::Regular, 1, "f", nullptr},
    {1, 5, NodeKind::Directory, 0, "mnt", nullptr},
    {2, 1, NodeKind::Directory, 4, "", nullptr},
    {2, 2, NodeKind::Regular, 5, "g", nullptr},
    {1, 6, NodeKind::Symlink, 0, "up", "a/b/../.."},
    {1, 7, NodeKind::Symlink, 0, "loop", "loop2"},
    {1, 8, NodeKind::Symlink, 0, "loop2", "/loop"},
    {1, 9, NodeKind::Symlink, 1, "tof", "f"},
    {1, 10, NodeKind::Symlink, 0, "dangling", "nowhere/x"},
    {1, 11, NodeKind::Symlink, 2, "deep", "../../mnt/g"},
    {1, 12, NodeKind::Symlink, 0, "empty", ""},
    {1, 13, NodeKind::Symlink, 5, "back", "../a"},
    {1, 14, NodeKind::Symlink, 0, "chain", "chain2"},
    {1, 15, NodeKind::Symlink, 0, "chain2", "chain3"},
    {1, 16, NodeKind::Symlink, 0, "chain3", "a/b/../f"},
};
constexpr uint32_t kNodeCount = sizeof kNodes / sizeof kNodes[0];
constexpr uint32_t kMountPoint = 4;
constexpr uint32_t kMountedRoot = 5;

int32_t find(NodeId node) {
    for (uint32_t index = 0; index < kNodeCount; ++index) {
        if (kNodes[index].mount == node.mount && kNodes[index].inode == node.inode) {
            return int32_t(index);
        }
    }
    return -1;
}

NodeId id(uint32_t index) {
    return NodeId{kNodes[index].mount, kNodes[index].inode};
}

class FixedTree final : public Namespace {
public:
    NodeId root() override { return id(0); }
    Status lookup(NodeId directory, const char* name, uint32_t length, NodeId* child) override {
        int32_t at = find(directory);
        if (at < 0) __builtin_trap();  // the walk asked about a node nobody gave it
        if (kNodes[at].kind != NodeKind::Directory) return UMKA_KABI_ENOTDIR;
        for (uint32_t index = 1; index < kNodeCount; ++index) {
            if (kNodes[index].parent != uint32_t(at) || index == kMountedRoot) continue;
            if (strlen(kNodes[index].name) == length &&
                memcmp(kNodes[index].name, name, length) == 0) {
                *child = id(index == kMountPoint ? kMountedRoot : index);
                return Status::ok();
            }
        }
        return UMKA_KABI_ENOENT;
    }
    Status parent(NodeId directory, NodeId* parent) override {
        int32_t at = find(directory);
        if (at < 0) __builtin_trap();
        uint32_t up = kNodes[at].parent;
        if (uint32_t(at) == kMountedRoot) up = kNodes[kMountPoint].parent;
        *parent = id(up);
        return Status::ok();
    }
    Status kind(NodeId node, NodeKind* kind) override {
        int32_t at = find(node);
        if (at < 0) __builtin_trap();
        *kind = kNodes[at].kind;
        return Status::ok();
    }
    Status read_link(NodeId node, char* buffer, uint32_t capacity, uint32_t* length) override {
        int32_t at = find(node);
        if (at < 0 || kNodes[at].target == nullptr) return UMKA_KABI_EINVAL;
        uint32_t size = uint32_t(strlen(kNodes[at].target));
        if (size > capacity) return UMKA_KABI_ENAMETOOLONG;
        memcpy(buffer, kNodes[at].target, size);
        *length = size;
        return Status::ok();
    }
};

bool allowed(Status status) {
    switch (status.code()) {
    case 0:
    case UMKA_KABI_ENOENT:
    case UMKA_KABI_ENOTDIR:
    case UMKA_KABI_ELOOP:
    case UMKA_KABI_ENAMETOOLONG:
    case UMKA_KABI_EINVAL:
        return true;
    default:
        return false;
    }
}

void check(const Status& status, const Resolved& resolved) {
    if (!allowed(status)) __builtin_trap();
    if (status.is_error()) return;
    if (resolved.last_length > umka::vfs::kNameMaximum ||
        resolved.last[resolved.last_length] != '\0') {
        __builtin_trap();
    }
    int32_t parent = find(resolved.parent);
    if (parent < 0 || kNodes[parent].kind != NodeKind::Directory) __builtin_trap();
    if (resolved.presence == Presence::Exists) {
        int32_t node = find(resolved.node);
        if (node < 0 || kNodes[node].kind != resolved.kind) __builtin_trap();
    }
}

bool same(const Resolved& left, const Resolved& right) {
    return left.presence == right.presence && left.node == right.node &&
           left.parent == right.parent && left.last_length == right.last_length &&
           memcmp(left.last, right.last, left.last_length) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 2 * umka::vfs::kPathMaximum) return 0;
    FixedTree tree;
    const char* path = reinterpret_cast<const char*>(data);
    // Start in "a" for relative paths, at the root for absolute ones.
    constexpr FinalLink kModes[] = {FinalLink::Follow, FinalLink::NoFollow};
    for (FinalLink mode : kModes) {
        Resolved first{};
        Resolved second{};
        Status one = umka::vfs::resolve(tree, id(1), path, uint32_t(size), mode, &first);
        Status two = umka::vfs::resolve(tree, id(1), path, uint32_t(size), mode, &second);
        check(one, first);
        if (one.code() != two.code() || (one.is_ok() && !same(first, second))) __builtin_trap();
    }
    return 0;
}
