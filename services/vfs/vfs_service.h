// The VFS service module (kabi-idl/modules/vfs_service.kabi): its state, the manifest's
// order, and the pieces its files share. Module code keeps no state of its own: the mount
// table, the open descriptions and the owners' descriptor tables are VfsState, which a live
// swap carries.
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
using Descriptor = kabi::vfs_service::VfsDescriptor;  // an open file description
using Table = kabi::vfs_service::VfsDescriptorTable;

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
// Open descriptions, across every table (ENFILE past them).
inline constexpr uint32_t kMaximumDescriptions =
    sizeof(State::descriptors) / sizeof(State::descriptors[0]);
inline constexpr uint32_t kMaximumTables = sizeof(State::tables) / sizeof(State::tables[0]);
// Descriptors in one table (EMFILE past them).
inline constexpr uint32_t kDescriptorsPerTable = sizeof(Table::descriptions);
static_assert(kMaximumDescriptions < 0xFF, "a table entry is a description index + 1 in a byte");
// FileSystem providers looked at when mounting by type name.
inline constexpr uint32_t kMaximumFileSystems = 16;

// open(2)'s access mode bits and the flags the VFS acts on.
inline constexpr uint32_t kAccessMask = 0x3;
inline constexpr uint32_t kReadOnly = 0x0;

inline State& state_of(const UmkaModuleBinding* binding) {
    return *kabi::module_state<State>(binding);
}

// The namespace the walk sees: mounts joined at their covered nodes (mount_table.cpp), as
// one owner sees it: relative paths start at its table's working directory.
class MountedNamespace final : public Namespace {
public:
    MountedNamespace(const UmkaModuleBinding* binding, Table& table)
        : binding_(binding), state_(state_of(binding)), table_(table) {}
    // As the console (table 0) sees it.
    explicit MountedNamespace(const UmkaModuleBinding* binding)
        : MountedNamespace(binding, state_of(binding).tables[0]) {}

    NodeId root() override { return NodeId{0, state_.mounts[0].root_inode}; }
    // The owner's working directory (the root while its table holds none).
    NodeId working_directory() const {
        return table_.directory_inode == 0 ? NodeId{0, state_.mounts[0].root_inode}
                                           : NodeId{table_.directory_mount, table_.directory_inode};
    }
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
    Table& table() const { return table_; }

private:
    const UmkaModuleBinding* binding_;
    State& state_;
    Table& table_;
};

// Mounts the root (tmpfs filled from the boot bundle) when nothing is mounted yet.
Status ensure_root(const UmkaModuleBinding* binding);
// Mounts `file_system` (a driver's type_name) from `source` on the directory `target`.
Status mount_at(MountedNamespace& names, const char* source, uint64_t source_length,
                const char* target, uint64_t target_length, const char* file_system,
                uint64_t file_system_length);
Status unmount_at(MountedNamespace& names, const char* target, uint64_t target_length);
// The `index`-th mount's row; ENOENT past the last.
Status mount_entry(const UmkaModuleBinding* binding, uint32_t index, api::MountRecord* record);

// Resolves `path`: an absolute one from the root, a relative one from the owner's working
// directory.
Status resolve_path(MountedNamespace& names, const char* path, uint64_t length,
                    FinalLink final_link, Resolved* resolved);

// resolve_path for a path that must name something: ENOENT when its last component is
// missing.
Status resolve_existing(MountedNamespace& names, const char* path, uint64_t length,
                        FinalLink final_link, Resolved* resolved);

// The live table a DescriptorTable handle names, or nullptr (EINVAL). A handle is the
// table's generation above its index; the console's table 0 is handle 0.
Table* table_of(State& state, api::DescriptorTable handle);
// The open description behind descriptor `number` of the owner's table, or nullptr (EBADF).
Descriptor* descriptor_of(MountedNamespace& names, uint32_t number);

// Serializes every Vfs call: one caller at a time (per-file locking comes with callers
// that need to overlap).
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
