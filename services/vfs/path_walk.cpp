#include "path_walk.h"

namespace umka::vfs {
namespace {

// The unresolved rest of the path is kept right-aligned in `remaining`, so following a
// symlink only writes its target into the consumed space in front of the rest: no memmove,
// no recursion, and nested links cost nothing beyond the fixed buffer.
struct Walk {
    // The buffers stay uninitialised: only bytes from `position` on are ever read.
    Walk(Namespace& walk_namespace, uint32_t path_length)
        : ns(walk_namespace),
          root(walk_namespace.root()),
          position(kPathMaximum - path_length),
          links_followed(0) {}

    Namespace& ns;
    NodeId root;
    uint32_t position;  // first unconsumed byte of `remaining`; kPathMaximum when done
    uint32_t links_followed;
    char remaining[kPathMaximum];
    char target[kPathMaximum];
};

// ".." never leaves the walk's root, even when the namespace could go higher, so a chroot's
// root behaves like "/" (Linux compares with nd->root before following the parent).
Status step_up(Walk& walk, NodeId directory, NodeId* parent) {
    if (directory == walk.root) {
        *parent = walk.root;
        return Status::ok();
    }
    return walk.ns.parent(directory, parent);
}

void set_last(Resolved* resolved, const char* name, uint32_t length) {
    if (length != 0) __builtin_memcpy(resolved->last, name, length);
    resolved->last[length] = '\0';
    resolved->last_length = length;
}

bool is_dot(const char* name, uint32_t length) {
    return length == 1 && name[0] == '.';
}

bool is_dot_dot(const char* name, uint32_t length) {
    return length == 2 && name[0] == '.' && name[1] == '.';
}

// Replaces the link's name (already consumed) by its target in front of the rest.
Status splice_link(Walk& walk, NodeId link, uint32_t name_end) {
    if (++walk.links_followed > kSymlinkFollowLimit) return UMKA_KABI_ELOOP;
    uint32_t target_length = 0;
    Status status = walk.ns.read_link(link, walk.target, kPathMaximum, &target_length);
    if (status.is_error()) return status;
    if (target_length > kPathMaximum) return UMKA_KABI_ENAMETOOLONG;
    // A Linux link body is a C string: whatever follows a NUL is not part of the target.
    for (uint32_t index = 0; index < target_length; ++index) {
        if (walk.target[index] == '\0') {
            target_length = index;
            break;
        }
    }
    if (target_length == 0) return UMKA_KABI_ENOENT;
    uint32_t rest_length = kPathMaximum - name_end;
    if (target_length + rest_length >= kPathMaximum) return UMKA_KABI_ENAMETOOLONG;
    walk.position = name_end - target_length;
    __builtin_memcpy(walk.remaining + walk.position, walk.target, target_length);
    return Status::ok();
}

}  // namespace

Status resolve(Namespace& ns, NodeId start, const char* path, uint32_t length, FinalLink final_link,
               Resolved* resolved) {
    if (length >= kPathMaximum) return UMKA_KABI_ENAMETOOLONG;
    if (length == 0) return UMKA_KABI_ENOENT;
    for (uint32_t index = 0; index < length; ++index) {
        if (path[index] == '\0') return UMKA_KABI_EINVAL;
    }

    Walk walk(ns, length);
    __builtin_memcpy(walk.remaining + walk.position, path, length);

    NodeId current = start;
    if (path[0] != '/') {
        // Linux refuses a relative walk from a non-directory dirfd before looking at names.
        NodeKind start_kind;
        Status status = ns.kind(start, &start_kind);
        if (status.is_error()) return status;
        if (start_kind != NodeKind::Directory) return UMKA_KABI_ENOTDIR;
    }

    // Invariant: `current` is a directory. Each non-final component is checked before the
    // walk descends into it, so a later component never has to ask.
    for (;;) {
        if (walk.position < kPathMaximum && walk.remaining[walk.position] == '/') {
            current = walk.root;
            while (walk.position < kPathMaximum && walk.remaining[walk.position] == '/') {
                ++walk.position;
            }
        }
        if (walk.position == kPathMaximum) {
            // Only slashes were left after a jump to the root: "/" itself, or a final
            // symlink whose target is "/".
            resolved->parent = current;
            resolved->node = current;
            resolved->presence = Presence::Exists;
            resolved->kind = NodeKind::Directory;
            resolved->trailing_slash = false;
            resolved->last_is_dot = false;
            set_last(resolved, "", 0);
            return Status::ok();
        }

        const char* name = walk.remaining + walk.position;
        uint32_t name_end = walk.position;
        while (name_end < kPathMaximum && walk.remaining[name_end] != '/') ++name_end;
        uint32_t name_length = name_end - walk.position;
        uint32_t next = name_end;
        while (next < kPathMaximum && walk.remaining[next] == '/') ++next;
        bool is_final = next == kPathMaximum;
        bool trailing_slash = is_final && next != name_end;
        walk.position = next;

        if (is_dot(name, name_length) || is_dot_dot(name, name_length)) {
            NodeId directory = current;
            if (is_dot_dot(name, name_length)) {
                Status status = step_up(walk, current, &directory);
                if (status.is_error()) return status;
            }
            if (!is_final) {
                current = directory;
                continue;
            }
            Status status = step_up(walk, directory, &resolved->parent);
            if (status.is_error()) return status;
            resolved->node = directory;
            resolved->presence = Presence::Exists;
            resolved->kind = NodeKind::Directory;
            resolved->trailing_slash = trailing_slash;
            resolved->last_is_dot = true;
            set_last(resolved, name, name_length);
            return Status::ok();
        }

        // Checked only when reached, like Linux, whose file systems refuse long names in
        // ->lookup: an earlier missing or non-directory component reports first.
        if (name_length > kNameMaximum) return UMKA_KABI_ENAMETOOLONG;

        NodeId child;
        Status status = ns.lookup(current, name, name_length, &child);
        if (status.code() == UMKA_KABI_ENOENT && is_final) {
            resolved->parent = current;
            resolved->node = NodeId{};
            resolved->presence = Presence::Missing;
            resolved->kind = NodeKind::Regular;
            resolved->trailing_slash = trailing_slash;
            resolved->last_is_dot = false;
            set_last(resolved, name, name_length);
            return Status::ok();
        }
        if (status.is_error()) return status;

        NodeKind child_kind;
        status = ns.kind(child, &child_kind);
        if (status.is_error()) return status;

        // A trailing slash asks for a directory, so a final link must be followed to know.
        if (child_kind == NodeKind::Symlink &&
            (!is_final || trailing_slash || final_link == FinalLink::Follow)) {
            // The target keeps the link's own trailing slashes behind it, so "link/" whose
            // target is "file" still demands a directory.
            status = splice_link(walk, child, name_end);
            if (status.is_error()) return status;
            continue;
        }

        if (is_final) {
            if (trailing_slash && child_kind != NodeKind::Directory) return UMKA_KABI_ENOTDIR;
            resolved->parent = current;
            resolved->node = child;
            resolved->presence = Presence::Exists;
            resolved->kind = child_kind;
            resolved->trailing_slash = trailing_slash;
            resolved->last_is_dot = false;
            set_last(resolved, name, name_length);
            return Status::ok();
        }

        if (child_kind != NodeKind::Directory) return UMKA_KABI_ENOTDIR;
        current = child;
    }
}

}  // namespace umka::vfs
