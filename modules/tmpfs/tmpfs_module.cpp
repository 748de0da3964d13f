// The tmpfs module (kabi-idl/modules/tmpfs.kabi): vfs.FileSystem over tmpfs_store.h. Each
// volume is one ModuleMemory region holding a Store arena, recorded in TmpfsState, so the
// module's code holds nothing and a live swap carries every file as it is. Each call
// re-attaches the arena (a header check), which is also what a replacement does first.
#include "boot_tree.h"
#include "umka/kabi/tmpfs_manifest.hpp"
#include "umka/kabi/tmpfs_state.hpp"
#include "umka/kabi/vfs.hpp"
#include "umka/module_entry.h"

namespace umka::tmpfs {
namespace {

namespace api = kabi::vfs;
namespace services = kabi::kernel_services;
using State = kabi::tmpfs::TmpfsState;

// Manifest order of kabi-idl/modules/tmpfs.kabi.
enum Required : uint32_t { kLog = 0, kModuleMemory = 1, kClock = 2, kBootFiles = 3, kCount = 4 };
inline constexpr uint32_t kFileSystem = 0;

// A volume's memory, the documented bound on what one tmpfs holds (docs/files.md): the
// largest region ModuleMemory hands out (one frame allocation of order 10).
inline constexpr uint64_t kVolumeBytes = 4ull << 20;
inline constexpr uint32_t kMaximumVolumes = sizeof(State::volumes) / sizeof(State::volumes[0]);

State& state_of(const UmkaModuleBinding* binding) {
    return *kabi::module_state<State>(binding);
}

uint64_t now_ns(const UmkaModuleBinding* binding) {
    services::ClockRef clock;
    return kabi::bind_required(binding, kClock, &clock).is_ok() ? clock.now_ns() : 0;
}

// The Store of `volume`; EINVAL when no such volume is mounted, EIO when its arena no
// longer checks out.
Status store_of(const UmkaModuleBinding* binding, uint32_t volume, Store* store) {
    if (volume >= kMaximumVolumes) return UMKA_KABI_EINVAL;
    const auto& record = state_of(binding).volumes[volume];
    if (record.region == 0) return UMKA_KABI_EINVAL;
    if (Store::attach(reinterpret_cast<void*>(uintptr_t(record.address)), record.length, store)
            .is_error()) {
        return UMKA_KABI_EIO;
    }
    return Status::ok();
}

uint32_t name_length(uint64_t length) {
    return length > kMaximumNameLength ? kMaximumNameLength + 1 : uint32_t(length);
}

#define TMPFS_VOLUME(context, volume)                             \
    const UmkaModuleBinding* binding = kabi::binding_of(context); \
    Store store;                                                  \
    if (Status attached = store_of(binding, volume, &store); attached.is_error()) return attached

struct FileSystem {
    static Status mount_volume(void* context, const char* source, uint64_t source_length,
                               uint32_t* volume, uint64_t* root) {
        const UmkaModuleBinding* binding = kabi::binding_of(context);
        static constexpr char kBoot[] = "boot";
        static constexpr char kEmpty[] = "empty";
        bool boot = source_length == sizeof kBoot - 1 &&
                    __builtin_memcmp(source, kBoot, source_length) == 0;
        bool empty = source_length == sizeof kEmpty - 1 &&
                     __builtin_memcmp(source, kEmpty, source_length) == 0;
        if (!boot && !empty) return UMKA_KABI_ENODEV;
        State& state = state_of(binding);
        uint32_t slot = 0;
        while (slot < kMaximumVolumes && state.volumes[slot].region != 0) ++slot;
        if (slot == kMaximumVolumes) return UMKA_KABI_ENOSPC;
        services::ModuleMemoryRef memory;
        if (kabi::bind_required(binding, kModuleMemory, &memory).is_error()) {
            return UMKA_KABI_ENOMEM;
        }
        services::MemoryRegion region{};
        if (memory.allocate(kVolumeBytes, services::MemoryFlags::Zeroed, &region).is_error()) {
            return UMKA_KABI_ENOMEM;
        }
        services::RegionInfo info{};
        Store store;
        if (memory.describe(region, &info).is_error() || info.length < kVolumeBytes ||
            Store::format(reinterpret_cast<void*>(uintptr_t(info.address)), kVolumeBytes,
                          now_ns(binding), &store)
                .is_error()) {
            (void)memory.release(region);
            return UMKA_KABI_ENOMEM;
        }
        if (boot) {
            if (Status filled =
                    fill_from_boot_files(binding, kBootFiles, kLog, store, now_ns(binding));
                filled.is_error()) {
                (void)memory.release(region);
                return filled;
            }
        }
        state.volumes[slot].address = info.address;
        state.volumes[slot].length = kVolumeBytes;
        __atomic_store_n(&state.volumes[slot].region, region.value, __ATOMIC_RELEASE);
        *volume = slot;
        *root = kRootInode;
        return Status::ok();
    }
    static Status unmount_volume(void* context, uint32_t volume) {
        TMPFS_VOLUME(context, volume);
        services::ModuleMemoryRef memory;
        if (kabi::bind_required(binding, kModuleMemory, &memory).is_error()) return UMKA_KABI_EIO;
        auto& record = state_of(binding).volumes[volume];
        if (memory.release(services::MemoryRegion{record.region}).is_error()) return UMKA_KABI_EIO;
        record = {};
        return Status::ok();
    }
    static Status lookup_name(void* context, uint32_t volume, uint64_t directory, const char* name,
                              uint64_t length, uint64_t* inode) {
        TMPFS_VOLUME(context, volume);
        return store.lookup(directory, name, name_length(length), inode);
    }
    static Status node_attributes(void* context, uint32_t volume, uint64_t inode,
                                  api::NodeAttributes* attributes) {
        TMPFS_VOLUME(context, volume);
        Attributes found{};
        if (Status got = store.attributes(inode, &found); got.is_error()) return got;
        *attributes = api::NodeAttributes{};
        attributes->inode = found.inode;
        attributes->size = found.size;
        attributes->blocks = found.blocks;
        attributes->mode = found.mode;
        attributes->link_count = found.link_count;
        attributes->modified_ns = found.modified_ns;
        attributes->changed_ns = found.changed_ns;
        attributes->kind = api::NodeKind(found.kind);
        return Status::ok();
    }
    static Status read_node(void* context, uint32_t volume, uint64_t inode, uint64_t offset,
                            void* buffer, uint64_t length, uint64_t* transferred) {
        TMPFS_VOLUME(context, volume);
        return store.read(inode, offset, buffer, length, transferred);
    }
    static Status write_node(void* context, uint32_t volume, uint64_t inode, uint64_t offset,
                             const void* data, uint64_t length, uint64_t* transferred) {
        TMPFS_VOLUME(context, volume);
        return store.write(inode, offset, data, length, now_ns(binding), transferred);
    }
    static Status truncate_node(void* context, uint32_t volume, uint64_t inode, uint64_t size) {
        TMPFS_VOLUME(context, volume);
        return store.truncate(inode, size, now_ns(binding));
    }
    static Status create_node(void* context, uint32_t volume, uint64_t directory, const char* name,
                              uint64_t length, api::NodeKind kind, uint32_t permissions,
                              uint64_t* inode) {
        TMPFS_VOLUME(context, volume);
        if (kind != api::NodeKind::Regular && kind != api::NodeKind::Directory) {
            return UMKA_KABI_EINVAL;
        }
        return store.create(directory, name, name_length(length), NodeKind(kind), permissions,
                            now_ns(binding), inode);
    }
    static Status create_symlink(void* context, uint32_t volume, uint64_t directory,
                                 const char* name, uint64_t length, const char* target,
                                 uint64_t target_length, uint64_t* inode) {
        TMPFS_VOLUME(context, volume);
        if (target_length > kMaximumLinkTarget) return UMKA_KABI_ENAMETOOLONG;
        return store.symlink(directory, name, name_length(length), target, uint32_t(target_length),
                             now_ns(binding), inode);
    }
    static Status read_symlink(void* context, uint32_t volume, uint64_t inode, void* buffer,
                               uint64_t capacity, uint64_t* length) {
        TMPFS_VOLUME(context, volume);
        uint32_t size = 0;
        Status read = store.read_link(
            inode, static_cast<char*>(buffer),
            capacity > kMaximumLinkTarget + 1 ? kMaximumLinkTarget + 1 : uint32_t(capacity), &size);
        *length = size;
        return read;
    }
    static Status link_node(void* context, uint32_t volume, uint64_t directory, const char* name,
                            uint64_t length, uint64_t inode) {
        TMPFS_VOLUME(context, volume);
        return store.link(directory, name, name_length(length), inode, now_ns(binding));
    }
    static Status unlink_name(void* context, uint32_t volume, uint64_t directory, const char* name,
                              uint64_t length) {
        TMPFS_VOLUME(context, volume);
        return store.unlink(directory, name, name_length(length), now_ns(binding));
    }
    static Status remove_directory_name(void* context, uint32_t volume, uint64_t directory,
                                        const char* name, uint64_t length) {
        TMPFS_VOLUME(context, volume);
        return store.remove_directory(directory, name, name_length(length), now_ns(binding));
    }
    static Status rename_name(void* context, uint32_t volume, uint64_t from_directory,
                              const char* from_name, uint64_t from_length, uint64_t to_directory,
                              const char* to_name, uint64_t to_length) {
        TMPFS_VOLUME(context, volume);
        return store.rename(from_directory, from_name, name_length(from_length), to_directory,
                            to_name, name_length(to_length), now_ns(binding));
    }
    static Status read_directory_record(void* context, uint32_t volume, uint64_t directory,
                                        uint64_t cookie, void* record, uint64_t record_length,
                                        uint64_t* next_cookie) {
        if (record_length < sizeof(api::DirectoryRecord)) return UMKA_KABI_EINVAL;
        TMPFS_VOLUME(context, volume);
        Entry entry{};
        if (Status read = store.read_directory(directory, cookie, &entry, next_cookie);
            read.is_error()) {
            return read;
        }
        api::DirectoryRecord out{};
        out.inode = entry.inode;
        out.kind = api::NodeKind(entry.kind);
        out.name_length = entry.name_length;
        __builtin_memcpy(out.name, entry.name, entry.name_length + 1);
        __builtin_memcpy(record, &out, sizeof out);
        return Status::ok();
    }
    static Status retain_node(void* context, uint32_t volume, uint64_t inode) {
        TMPFS_VOLUME(context, volume);
        return store.retain(inode);
    }
    static Status release_node(void* context, uint32_t volume, uint64_t inode) {
        TMPFS_VOLUME(context, volume);
        return store.release(inode);
    }
    static Status volume_usage(void* context, uint32_t volume, api::FileSystemUsage* usage) {
        TMPFS_VOLUME(context, volume);
        Usage counts = store.usage();
        *usage = api::FileSystemUsage{counts.block_size, counts.total_blocks, counts.free_blocks,
                                      counts.total_inodes, counts.free_inodes};
        return Status::ok();
    }
    // Memory is the medium: there is nothing to write back.
    static Status sync_volume(void* context, uint32_t volume) {
        TMPFS_VOLUME(context, volume);
        return Status::ok();
    }
    static Status type_name(void*, void* buffer, uint64_t capacity, uint64_t* length) {
        static constexpr char kName[] = "tmpfs";
        if (capacity < sizeof kName - 1) return UMKA_KABI_ENOSPC;
        __builtin_memcpy(buffer, kName, sizeof kName - 1);
        *length = sizeof kName - 1;
        return Status::ok();
    }
};
static_assert(__is_empty(FileSystem), "module code keeps no state of its own");

#undef TMPFS_VOLUME

constexpr api::FileSystemVtable file_system_vtable = api::make_file_system_vtable<FileSystem>();

}  // namespace
}  // namespace umka::tmpfs

UMKA_KABI_DEFINE_MANIFEST_TMPFS();

// Allocates nothing at start: a volume's memory is taken when it is mounted.
UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, umka::tmpfs::kCount, 1, 1)) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "binding of another manifest", 27);
    }
    if (umka::kabi::module_state<umka::tmpfs::State>(binding) == nullptr) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "no TmpfsState region", 20);
    }
    return umka_module_provide(binding, umka::tmpfs::kFileSystem, &umka::tmpfs::file_system_vtable,
                               binding);
}
