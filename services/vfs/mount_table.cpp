// The mount table and the namespace the path walk sees through it.
//
// Mount 0 is the root. Mount m > 0 covers the node (covered_mount, covered_inode): a
// lookup that lands on a covered node goes on at m's root, and ".." of m's root is ".." of
// the covered node, so a walk crosses mounts both ways as on Linux. File systems are found
// through the service directory by their type_name, so a new driver needs no change here.
#include "descriptor_tables.h"
#include "fstab.h"
#include "umka/kabi/service_directory.hpp"
#include "vfs_service.h"

namespace umka::vfs {
namespace {

void copy_text(uint8_t* field, uint64_t capacity, const char* text, uint64_t length) {
    __builtin_memset(field, 0, capacity);
    __builtin_memcpy(field, text, length < capacity - 1 ? length : capacity - 1);
}

// The mount whose covered node is `node`, or 0 (the root is never a covering mount).
uint32_t mount_covering(const State& state, NodeId node) {
    for (uint32_t index = 1; index < kMaximumMounts; ++index) {
        const Mount& mount = state.mounts[index];
        if (mount.file_system_slot != 0 && mount.covered_mount == node.mount &&
            mount.covered_inode == node.inode) {
            return index;
        }
    }
    return 0;
}

// The FileSystem provider whose type_name is `name`.
Status find_file_system(const UmkaModuleBinding* binding, const char* name, uint64_t length,
                        uint64_t* slot) {
    kabi::service_directory::DirectoryRef directory;
    if (kabi::bind_required(binding, kDirectory, &directory).is_error()) return UMKA_KABI_ENODEV;
    static constexpr char kPackage[] = "vfs";
    static constexpr char kInterface[] = "FileSystem";
    for (uint32_t index = 0; index < kMaximumFileSystems; ++index) {
        uint64_t found = 0;
        Status status = directory.provider(kPackage, sizeof kPackage - 1, kInterface,
                                           sizeof kInterface - 1, index, 2, &found);
        if (status.code() == UMKA_KABI_ENOENT) break;
        api::FileSystemRef file_system;
        if (status.is_error() ||
            kabi::bind_service(reinterpret_cast<const UmkaServiceSlot*>(uintptr_t(found)),
                               &file_system)
                .is_error()) {
            continue;
        }
        char type[24];
        uint64_t type_length = 0;
        if (file_system.type_name(type, sizeof type, &type_length).is_ok() &&
            type_length == length && __builtin_memcmp(type, name, length) == 0) {
            *slot = found;
            return Status::ok();
        }
    }
    return UMKA_KABI_ENODEV;
}

// Mounts into the free slot `index`.
Status mount_into(const UmkaModuleBinding* binding, uint32_t index, const char* source,
                  uint64_t source_length, const char* type, uint64_t type_length, const char* path,
                  uint64_t path_length, NodeId covered) {
    uint64_t slot = 0;
    if (Status found = find_file_system(binding, type, type_length, &slot); found.is_error()) {
        return found;
    }
    api::FileSystemRef file_system;
    if (kabi::bind_service(reinterpret_cast<const UmkaServiceSlot*>(uintptr_t(slot)), &file_system)
            .is_error()) {
        return UMKA_KABI_ENODEV;
    }
    uint32_t volume = 0;
    uint64_t root = 0;
    if (Status mounted = file_system.mount_volume(source, source_length, &volume, &root);
        mounted.is_error()) {
        return mounted;
    }
    // Names a mount that was here before may have left behind are not this volume's.
    MountedNamespace(binding).forget_mount(index);
    Mount& mount = state_of(binding).mounts[index];
    mount = Mount{};
    mount.volume = volume;
    mount.root_inode = root;
    mount.covered_mount = covered.mount;
    mount.covered_inode = covered.inode;
    copy_text(mount.type_name, sizeof mount.type_name, type, type_length);
    copy_text(mount.source, sizeof mount.source, source, source_length);
    copy_text(mount.path, sizeof mount.path, path, path_length);
    // Last: a non-zero slot is what makes the mount visible.
    __atomic_store_n(&mount.file_system_slot, slot, __ATOMIC_RELEASE);
    return Status::ok();
}

}  // namespace

bool MountedNamespace::file_system(uint32_t mount, api::FileSystemRef* file_system) const {
    if (mount >= kMaximumMounts) return false;
    uint64_t slot = __atomic_load_n(&state_.mounts[mount].file_system_slot, __ATOMIC_ACQUIRE);
    return slot != 0 && kabi::bind_service(
                            reinterpret_cast<const UmkaServiceSlot*>(uintptr_t(slot)), file_system)
                            .is_ok();
}

Status MountedNamespace::lookup(NodeId directory, const char* name, uint32_t length,
                                NodeId* child) {
    uint64_t inode = 0;
    NameCache cache(reinterpret_cast<void*>(uintptr_t(state_.name_cache_address)));
    bool cached = state_.name_cache_address != 0 &&
                  cache.find(directory.mount, directory.inode, name, length, &inode);
    if (!cached) {
        api::FileSystemRef driver;
        if (!file_system(directory.mount, &driver)) return UMKA_KABI_EIO;
        Status found = driver.lookup_name(state_.mounts[directory.mount].volume, directory.inode,
                                          name, length, &inode);
        if (found.is_error()) return found;
        if (state_.name_cache_address != 0) {
            cache.insert(directory.mount, directory.inode, name, length, inode);
        }
    }
    NodeId node{directory.mount, inode};
    if (uint32_t covering = mount_covering(state_, node); covering != 0) {
        node = NodeId{covering, state_.mounts[covering].root_inode};
    }
    *child = node;
    return Status::ok();
}

void MountedNamespace::forget_name(NodeId directory, const char* name, uint32_t length) {
    if (state_.name_cache_address == 0) return;
    NameCache(reinterpret_cast<void*>(uintptr_t(state_.name_cache_address)))
        .forget(directory.mount, directory.inode, name, length);
}

void MountedNamespace::remember_name(NodeId directory, const char* name, uint32_t length,
                                     uint64_t inode) {
    if (state_.name_cache_address == 0) return;
    NameCache(reinterpret_cast<void*>(uintptr_t(state_.name_cache_address)))
        .insert(directory.mount, directory.inode, name, length, inode);
}

void MountedNamespace::forget_mount(uint32_t mount) {
    if (state_.name_cache_address == 0) return;
    NameCache(reinterpret_cast<void*>(uintptr_t(state_.name_cache_address))).forget_mount(mount);
}

Status MountedNamespace::parent(NodeId directory, NodeId* parent) {
    const Mount& mount = state_.mounts[directory.mount];
    if (directory.mount != 0 && directory.inode == mount.root_inode) {
        // ".." of a mounted root is ".." of the node it covers.
        return this->parent(NodeId{mount.covered_mount, mount.covered_inode}, parent);
    }
    api::FileSystemRef driver;
    if (!file_system(directory.mount, &driver)) return UMKA_KABI_EIO;
    uint64_t inode = 0;
    Status found = driver.lookup_name(mount.volume, directory.inode, "..", 2, &inode);
    if (found.is_error()) return found;
    *parent = NodeId{directory.mount, inode};
    return Status::ok();
}

Status MountedNamespace::kind(NodeId node, NodeKind* kind) {
    api::FileSystemRef driver;
    if (!file_system(node.mount, &driver)) return UMKA_KABI_EIO;
    api::NodeAttributes attributes{};
    Status got = driver.node_attributes(state_.mounts[node.mount].volume, node.inode, &attributes);
    if (got.is_error()) return got;
    *kind = NodeKind(attributes.kind);
    return Status::ok();
}

Status MountedNamespace::read_link(NodeId node, char* buffer, uint32_t capacity, uint32_t* length) {
    api::FileSystemRef driver;
    if (!file_system(node.mount, &driver)) return UMKA_KABI_EIO;
    uint64_t size = 0;
    Status read =
        driver.read_symlink(state_.mounts[node.mount].volume, node.inode, buffer, capacity, &size);
    if (read.is_error()) return read;
    *length = uint32_t(size < capacity ? size : capacity);
    return Status::ok();
}

namespace {

// The name cache's region, once; without one every lookup asks the file system.
void allocate_name_cache(const UmkaModuleBinding* binding) {
    State& state = state_of(binding);
    if (state.name_cache_address != 0) return;
    services::ModuleMemoryRef memory;
    services::MemoryRegion region{};
    services::RegionInfo info{};
    if (kabi::bind_required(binding, kModuleMemory, &memory).is_error() ||
        memory.allocate(kNameCacheBytes, services::MemoryFlags::Zeroed, &region).is_error()) {
        return;
    }
    if (memory.describe(region, &info).is_error() || info.length < kNameCacheBytes) {
        (void)memory.release(region);
        return;
    }
    state.name_cache_region = region.value;
    state.name_cache_address = info.address;
}

}  // namespace

Status ensure_root(const UmkaModuleBinding* binding) {
    ensure_console_table(state_of(binding));
    if (__atomic_load_n(&state_of(binding).mounts[0].file_system_slot, __ATOMIC_ACQUIRE) != 0) {
        return Status::ok();
    }
    allocate_name_cache(binding);
    static constexpr char kType[] = "tmpfs";
    static constexpr char kSource[] = "boot";
    if (Status mounted = mount_into(binding, 0, kSource, sizeof kSource - 1, kType,
                                    sizeof kType - 1, "/", 1, NodeId{0, 0});
        mounted.is_error()) {
        return mounted;
    }
    mount_from_fstab(binding);
    return Status::ok();
}

Status resolve_path(MountedNamespace& names, const char* path, uint64_t length,
                    FinalLink final_link, Resolved* resolved) {
    if (length >= kPathMaximum) return UMKA_KABI_ENAMETOOLONG;
    NodeId start = length != 0 && path[0] != '/' ? names.working_directory() : names.root();
    return resolve(names, start, path, uint32_t(length), final_link, resolved);
}

Status resolve_existing(MountedNamespace& names, const char* path, uint64_t length,
                        FinalLink final_link, Resolved* resolved) {
    if (Status found = resolve_path(names, path, length, final_link, resolved); found.is_error()) {
        return found;
    }
    return resolved->presence == Presence::Missing ? Status(UMKA_KABI_ENOENT) : Status::ok();
}

Status mount_at(MountedNamespace& names, const char* source, uint64_t source_length,
                const char* target, uint64_t target_length, const char* file_system,
                uint64_t file_system_length) {
    if (source_length == 0 || source_length >= sizeof(Mount{}.source) || file_system_length == 0 ||
        file_system_length >= sizeof(Mount{}.type_name)) {
        return UMKA_KABI_EINVAL;
    }
    if (target_length >= sizeof(Mount{}.path)) return UMKA_KABI_ENAMETOOLONG;
    Resolved resolved{};
    if (Status found = resolve_existing(names, target, target_length, FinalLink::Follow, &resolved);
        found.is_error()) {
        return found;
    }
    if (resolved.kind != NodeKind::Directory) return UMKA_KABI_ENOTDIR;
    State& state = names.state();
    // A mounted root (the root itself, or another mount's) is busy, as on Linux without
    // stacking.
    if (resolved.node.inode == state.mounts[resolved.node.mount].root_inode) return UMKA_KABI_EBUSY;
    for (uint32_t index = 1; index < kMaximumMounts; ++index) {
        if (state.mounts[index].file_system_slot != 0) continue;
        return mount_into(names.binding(), index, source, source_length, file_system,
                          file_system_length, target, target_length, resolved.node);
    }
    return UMKA_KABI_ENOSPC;
}

Status unmount_at(MountedNamespace& names, const char* target, uint64_t target_length) {
    Resolved resolved{};
    if (Status found = resolve_existing(names, target, target_length, FinalLink::Follow, &resolved);
        found.is_error()) {
        return found;
    }
    State& state = names.state();
    uint32_t index = resolved.node.mount;
    Mount& mount = state.mounts[index];
    if (index == 0 || resolved.node.inode != mount.root_inode) return UMKA_KABI_EINVAL;
    if (mount.open_count != 0) return UMKA_KABI_EBUSY;
    for (uint32_t other = 1; other < kMaximumMounts; ++other) {
        if (state.mounts[other].file_system_slot != 0 &&
            state.mounts[other].covered_mount == index) {
            return UMKA_KABI_EBUSY;
        }
    }
    api::FileSystemRef file_system;
    if (!names.file_system(index, &file_system)) return UMKA_KABI_EIO;
    if (Status unmounted = file_system.unmount_volume(mount.volume); unmounted.is_error()) {
        return unmounted;
    }
    mount = Mount{};
    names.forget_mount(index);
    return Status::ok();
}

Status mount_entry(const UmkaModuleBinding* binding, uint32_t index, api::MountRecord* record) {
    State& state = state_of(binding);
    uint32_t seen = 0;
    for (uint32_t slot = 0; slot < kMaximumMounts; ++slot) {
        const Mount& mount = state.mounts[slot];
        if (mount.file_system_slot == 0 || seen++ != index) continue;
        *record = api::MountRecord{};
        __builtin_memcpy(record->path, mount.path, sizeof mount.path);
        __builtin_memcpy(record->file_system, mount.type_name,
                         sizeof record->file_system < sizeof mount.type_name
                             ? sizeof record->file_system
                             : sizeof mount.type_name);
        __builtin_memcpy(record->source, mount.source, sizeof record->source);
        record->file_system[sizeof record->file_system - 1] = 0;
        record->source[sizeof record->source - 1] = 0;
        return Status::ok();
    }
    return UMKA_KABI_ENOENT;
}

}  // namespace umka::vfs
