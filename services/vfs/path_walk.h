// Linux path resolution (path_lookupat / link_path_walk in fs/namei.c) over an abstract
// namespace, so the VFS service resolves paths exactly as applications written for Linux
// expect, without knowing how mounts and file system drivers are stored.
#pragma once

#include <stdint.h>

#include "umka/kabi/kabi_base.h"

namespace umka::vfs {

using Status = umka::kabi::Status;

// Values match vfs.NodeKind in kabi-idl/vfs.kabi.
enum class NodeKind : uint8_t {
    Regular = 0,
    Directory = 1,
    Symlink = 2,
    CharDevice = 3,
    BlockDevice = 4,
    Fifo = 5,
    Socket = 6
};

// A node: which mounted file system, and its inode there.
struct NodeId {
    uint32_t mount = 0;
    uint64_t inode = 0;
    bool operator==(const NodeId&) const = default;
};

inline constexpr uint32_t kPathMaximum = 4096;       // PATH_MAX, counting the NUL: a path of 4096
                                                     // bytes or more is ENAMETOOLONG
inline constexpr uint32_t kNameMaximum = 255;        // NAME_MAX
inline constexpr uint32_t kSymlinkFollowLimit = 40;  // MAXSYMLINKS

// What the walk needs from the VFS. The VFS implements it over its mount table and file
// system drivers; `lookup` returns the node covering a mount point (the mounted root) when
// the child is a mount point, and `parent` of a mounted root is the mount point's parent.
class Namespace {
public:
    virtual NodeId root() = 0;
    // A child by name (never "." or "..": the walk handles those). ENOENT, ENOTDIR, EIO...
    virtual Status lookup(NodeId directory, const char* name, uint32_t length, NodeId* child) = 0;
    virtual Status parent(NodeId directory, NodeId* parent) = 0;  // root's parent is root
    virtual Status kind(NodeId node, NodeKind* kind) = 0;
    // The target of a symlink into buffer (capacity kPathMaximum); *length its size.
    virtual Status read_link(NodeId node, char* buffer, uint32_t capacity, uint32_t* length) = 0;

protected:
    ~Namespace() = default;
};

enum class FinalLink : uint8_t { Follow, NoFollow };  // O_NOFOLLOW/lstat vs stat

// What resolve() found. `parent` is the directory holding the last component and `last`
// its name (for create/unlink/rename/mkdir); `presence` says whether that last component
// exists (then `node` is it, after following a final symlink when Follow).
enum class Presence : uint8_t { Exists, Missing };

struct Resolved {
    NodeId parent;
    NodeId node;
    Presence presence;
    NodeKind kind;        // of node when Exists
    bool trailing_slash;  // the path ended in '/' (after its last name)
    uint32_t last_length;
    char last[kNameMaximum + 1];  // NUL-terminated; "" when the path names the root ("/") or
                                  // the start itself
    bool last_is_dot;  // the last component was "." or ".." (create/unlink/rename must refuse
                       // it: EEXIST/EINVAL/EBUSY per syscall — the caller decides)
};

// Resolves `path` (not NUL-terminated; `length` bytes) from `start` (the working directory;
// absolute paths start at ns.root()), following Linux's rules:
// - length 0: ENOENT. length >= kPathMaximum: ENAMETOOLONG. A NUL byte inside: EINVAL.
// - Repeated slashes are one; "." stays; ".." goes to the parent; ".." at ns.root() stays
//   there even if the namespace would go higher (a chroot's root behaves like "/").
// - A component longer than kNameMaximum is ENAMETOOLONG when the walk reaches it (a
//   missing or non-directory parent reports ENOENT / ENOTDIR first, as Linux does).
// - A missing intermediate component: ENOENT; a non-directory one (after following
//   symlinks): ENOTDIR. A relative path from a `start` that is not a directory: ENOTDIR.
// - Intermediate symlinks are always followed; the final one when `final_link` is Follow
//   or the path has a trailing slash. Absolute targets restart at ns.root(), relative ones
//   at the link's directory. More than kSymlinkFollowLimit links in one call, nested ones
//   included: ELOOP. An empty target: ENOENT. A target stops at its first NUL byte, as a
//   Linux link body is a C string. A target whose length plus the unresolved rest of the
//   path reaches kPathMaximum: ENAMETOOLONG (Linux stacks nested links instead and has no
//   such limit; the bound keeps this walk's memory fixed).
// - A missing final component is not an error: presence Missing, with parent and last set.
//   When a followed final symlink dangles, parent and last describe the target's missing
//   last component in the target's directory (where open(O_CREAT) would create it; stat
//   reports ENOENT).
// - A trailing slash on an existing non-directory: ENOTDIR; on a missing name: presence
//   Missing with trailing_slash set (mkdir("a/") works, creat("a/") the caller refuses).
// - A final "." or "..": node is the directory it names, parent that directory's parent,
//   last "." or "..", last_is_dot set.
// - "/" (or a final symlink to "/"): node and parent are the root, last "", presence Exists.
// On error *resolved is unspecified.
Status resolve(Namespace& ns, NodeId start, const char* path, uint32_t length, FinalLink final_link,
               Resolved* resolved);

}  // namespace umka::vfs
