// The VFS service module (kabi-idl/modules/vfs_service.kabi): its state, the manifest's
// order, and the pieces its files share. Module code keeps no state of its own: the mount
// table and the descriptors are VfsState, which a live swap carries.
#pragma once

#include <stdint.h>

#include "name_cache.h"
#include "path_walk.h"
#include "umka/kabi/kernel_services.hpp"
#include "umka/kabi/vfs.hpp"
#include "umka/kabi/vfs_service_state.hpp"
#include "umka/module_entry.h"

namespace umka::vfs {

namespace api = kabi::vfs;
namespace services = kabi::kernel_services;
using State = kabi::vfs_service::VfsState;
using Mount = kabi::vfs_service::VfsMount;
using Descriptor = kabi::vfs_service::VfsDescriptor;

// Manifest order of kabi-idl/modules/vfs_service.kabi.
enum Required : uint32_t {
    kLog = 0,
    kDirectory = 1,
    kThreads = 2,
    kModuleMemory = 3,
    kRequiredCount = 4
};
enum Provided : uint32_t { kVfs = 0, kProvidedCount = 1 };
inline constexpr uint32_t kStateCount = 1;

inline constexpr uint32_t kMaximumMounts = sizeof(State::mounts) / sizeof(State::mounts[0]);
inline constexpr uint32_t kMaximumDescriptors =
    sizeof(State::descriptors) / sizeof(State::descriptors[0]);
// FileSystem providers looked at when mounting by type name.
inline constexpr uint32_t kMaximumFileSystems = 16;

// open(2)'s access mode bits and the flags the VFS acts on.
inline constexpr uint32_t kAccessMask = 0x3;
inline constexpr uint32_t kReadOnly = 0x0;

inline State& state_of(const UmkaModuleBinding* binding) {
    return *kabi::module_state<State>(binding);
}

// The namespace the walk sees: mounts joined at their covered nodes (mount_table.cpp).
class MountedNamespace final : public Namespace {
public:
    explicit MountedNamespace(const UmkaModuleBinding* binding)
        : binding_(binding), state_(state_of(binding)) {}

    NodeId root() override { return NodeId{0, state_.mounts[0].root_inode}; }
    Status lookup(NodeId directory, const char* name, uint32_t length, NodeId* child) override;
    Status parent(NodeId directory, NodeId* parent) override;
    Status kind(NodeId node, NodeKind* kind) override;
    Status read_link(NodeId node, char* buffer, uint32_t capacity, uint32_t* length) override;

    // The name cache forgets a name the file system just removed or renamed away, or every
    // name of a mount that comes or goes (name_cache.h).
    void forget_name(NodeId directory, const char* name, uint32_t length);
    // ... and learns a name the file system just made.
    void remember_name(NodeId directory, const char* name, uint32_t length, uint64_t inode);
    void forget_mount(uint32_t mount);

    // The file system serving `mount` (false: no such mount).
    bool file_system(uint32_t mount, api::FileSystemRef* file_system) const;
    const UmkaModuleBinding* binding() const { return binding_; }
    State& state() const { return state_; }

private:
    const UmkaModuleBinding* binding_;
    State& state_;
};

// Mounts the root (tmpfs filled from the boot bundle) when nothing is mounted yet.
Status ensure_root(const UmkaModuleBinding* binding);
// Mounts `file_system` (a driver's type_name) from `source` on the directory `target`.
Status mount_at(const UmkaModuleBinding* binding, const char* source, uint64_t source_length,
                const char* target, uint64_t target_length, const char* file_system,
                uint64_t file_system_length);
Status unmount_at(const UmkaModuleBinding* binding, const char* target, uint64_t target_length);
// The `index`-th mount's row; ENOENT past the last.
Status mount_entry(const UmkaModuleBinding* binding, uint32_t index, api::MountRecord* record);

// Resolves `path` from the root (the one working directory today).
Status resolve_path(MountedNamespace& names, const char* path, uint64_t length,
                    FinalLink final_link, Resolved* resolved);

// resolve_path for a path that must name something: ENOENT when its last component is
// missing.
Status resolve_existing(MountedNamespace& names, const char* path, uint64_t length,
                        FinalLink final_link, Resolved* resolved);

// A descriptor of the table, or nullptr (EBADF).
Descriptor* descriptor_of(State& state, uint32_t descriptor);

// Serializes every Vfs call: one caller at a time (the console today; per-file locking
// comes with concurrent callers).
class CallGuard {
public:
    explicit CallGuard(const UmkaModuleBinding* binding);
    ~CallGuard();
    CallGuard(const CallGuard&) = delete;
    CallGuard& operator=(const CallGuard&) = delete;

private:
    State& state_;
};

}  // namespace umka::vfs
