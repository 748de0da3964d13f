// The ext2 module (kabi-idl/modules/ext2.kabi): vfs.FileSystem over ext2_volume.h on the
// disks the console names (mount vda /mnt ext2). A volume's whole state is one ModuleMemory
// region recorded in Ext2State, re-attached on every call (a header check), which is also
// what a replacement instance does first; the module's code holds nothing. Every call takes
// the module's lock: the core is single-threaded and its disk requests sleep.
#include "ext2_module.h"

#include "ext2_versions.h"
#include "umka/block_devices.h"
#include "umka/kabi/ext2_manifest.hpp"
#include "umka/kabi/service_directory.hpp"
#include "umka/kabi/vfs.hpp"
#include "umka/line_text.h"

namespace umka::ext2 {

void log_line(const UmkaModuleBinding* binding, kabi::kernel_services::LogLevel level,
              const char* text, uint64_t length) {
    kabi::kernel_services::LogRef log;
    if (kabi::bind_required(binding, kLog, &log).is_ok()) log.write(level, text, length);
}

namespace {

namespace api = kabi::vfs;
namespace block = kabi::block_device;
namespace services = kabi::kernel_services;

uint64_t now_ns(const UmkaModuleBinding* binding) {
    services::ClockRef clock;
    return kabi::bind_required(binding, kClock, &clock).is_ok() ? clock.now_ns() : 0;
}

uint32_t name_length(uint64_t length) {
    return length > kMaximumNameLength ? kMaximumNameLength + 1 : uint32_t(length);
}

// The module's call lock: waiters yield, since the holder may sleep on the disk.
class Locked {
public:
    explicit Locked(const UmkaModuleBinding* binding) : state_(state_of(binding)) {
        services::ThreadsRef threads;
        bool can_yield = kabi::bind_required(binding, kThreads, &threads).is_ok();
        uint32_t idle = 0;
        while (!__atomic_compare_exchange_n(&state_.lock, &idle, 1u, false, __ATOMIC_ACQUIRE,
                                            __ATOMIC_RELAXED)) {
            idle = 0;
            if (can_yield) threads.yield_now();
        }
    }
    ~Locked() { __atomic_store_n(&state_.lock, 0u, __ATOMIC_RELEASE); }
    Locked(const Locked&) = delete;
    Locked& operator=(const Locked&) = delete;

private:
    State& state_;
};

// One call on a mounted volume: the lock, the disk and the re-attached Volume.
struct Call {
    Call(void* context, uint32_t volume_index)
        : binding(kabi::binding_of(context)),
          locked(binding),
          record(state_of(binding).volumes[volume_index < kMaximumVolumes ? volume_index : 0]),
          disk(binding, record) {
        if (volume_index >= kMaximumVolumes || record.region == 0) {
            status = UMKA_KABI_EINVAL;
        } else if (Volume::attach(reinterpret_cast<void*>(uintptr_t(record.address)), record.length,
                                  &disk, &volume)
                       .is_error()) {
            status = UMKA_KABI_EIO;
        }
    }
    const UmkaModuleBinding* binding;
    Locked locked;
    VolumeRecord& record;
    Disk disk;
    Volume volume;
    Status status;
};

#define EXT2_CALL(context, volume_index)            \
    Call call(context, volume_index);               \
    if (call.status.is_error()) return call.status; \
    Volume& volume = call.volume

void log_refusal(const UmkaModuleBinding* binding, const char* source, uint64_t source_length,
                 const char* what, const char* reason) {
    LineText<200> line;
    line.add("ext2: ");
    line.add(source, source_length < 16 ? source_length : 16);
    line.add(": ").add(what);
    if (reason != nullptr) line.add(": ").add(reason);
    log_line(binding, services::LogLevel::Warning, line.data(), line.length());
}

Status mount_disk(const UmkaModuleBinding* binding, const char* source, uint64_t source_length,
                  uint32_t* volume_index, uint64_t* root) {
    uint32_t ordinal = 0;
    if (!block_devices::parse_name(source, source_length, &ordinal)) return UMKA_KABI_ENODEV;
    State& state = state_of(binding);
    uint32_t slot = 0;
    while (slot < kMaximumVolumes && state.volumes[slot].region != 0) ++slot;
    if (slot == kMaximumVolumes) return UMKA_KABI_ENOSPC;
    kabi::service_directory::DirectoryRef directory;
    if (kabi::bind_required(binding, kDirectory, &directory).is_error()) return UMKA_KABI_ENODEV;
    block_devices::Found found;
    if (Status status = block_devices::find(directory, ordinal, &found); status.is_error()) {
        return status;
    }
    // A disk already mounted here would have two caches writing it.
    for (uint32_t index = 0; index < kMaximumVolumes; ++index) {
        if (state.volumes[index].region != 0 && state.volumes[index].device_ordinal == ordinal) {
            return UMKA_KABI_EBUSY;
        }
    }
    block::BlockGeometry geometry{};
    if (found.provider.device_geometry(found.device_index, &geometry).is_error()) {
        return UMKA_KABI_EIO;
    }
    if (geometry.sector_size != 512) {
        log_refusal(binding, source, source_length, "refused",
                    "the disk's sectors are not 512 bytes");
        return UMKA_KABI_EINVAL;
    }
    if (Status ready = ensure_disk_resources(binding); ready.is_error()) return ready;
    services::ModuleMemoryRef memory;
    if (kabi::bind_required(binding, kModuleMemory, &memory).is_error()) return UMKA_KABI_ENOMEM;
    services::MemoryRegion region{};
    if (memory.allocate(kVolumeBytes, services::MemoryFlags::Zeroed, &region).is_error()) {
        return UMKA_KABI_ENOMEM;
    }
    services::RegionInfo info{};
    if (memory.describe(region, &info).is_error() || info.length < kVolumeBytes) {
        (void)memory.release(region);
        return UMKA_KABI_ENOMEM;
    }
    VolumeRecord& record = state.volumes[slot];
    record = VolumeRecord{};
    record.address = info.address;
    record.length = kVolumeBytes;
    record.provider_slot = found.slot;
    record.completion_slot = block_devices::own_completion(directory, found.provider);
    record.device_index = found.device_index;
    record.device_ordinal = ordinal;
    record.max_request_sectors = geometry.max_request_sectors;
    Disk disk(binding, record);
    Volume volume;
    const char* reason = nullptr;
    MountMode mode = geometry.read_only ? MountMode::ReadOnly : MountMode::ReadWrite;
    Status mounted =
        Volume::mount(reinterpret_cast<void*>(uintptr_t(info.address)), kVolumeBytes, &disk,
                      geometry.sector_count * 512, mode, now_ns(binding), &volume, &reason);
    if (mounted.is_error()) {
        log_refusal(binding, source, source_length, "mount refused", reason);
        record = VolumeRecord{};
        (void)memory.release(region);
        return mounted;
    }
    if (volume.mode() == MountMode::ReadOnly) {
        log_refusal(binding, source, source_length, "mounted read-only",
                    reason != nullptr ? reason : "the disk is read-only");
    }
    // Last: a non-zero region is what makes the volume usable.
    __atomic_store_n(&record.region, region.value, __ATOMIC_RELEASE);
    *volume_index = slot;
    *root = kRootInode;
    return Status::ok();
}

struct FileSystem {
    static Status mount_volume(void* context, const char* source, uint64_t source_length,
                               uint32_t* volume, uint64_t* root) {
        const UmkaModuleBinding* binding = kabi::binding_of(context);
        Locked locked(binding);
        return mount_disk(binding, source, source_length, volume, root);
    }
    static Status unmount_volume(void* context, uint32_t volume_index) {
        EXT2_CALL(context, volume_index);
        if (Status unmounted = volume.unmount(now_ns(call.binding)); unmounted.is_error()) {
            return unmounted;
        }
        services::ModuleMemoryRef memory;
        if (kabi::bind_required(call.binding, kModuleMemory, &memory).is_error() ||
            memory.release(services::MemoryRegion{call.record.region}).is_error()) {
            return UMKA_KABI_EIO;
        }
        call.record = VolumeRecord{};
        return Status::ok();
    }
    static Status lookup_name(void* context, uint32_t volume_index, uint64_t directory,
                              const char* name, uint64_t length, uint64_t* inode) {
        EXT2_CALL(context, volume_index);
        return volume.lookup(directory, name, name_length(length), inode);
    }
    static Status node_attributes(void* context, uint32_t volume_index, uint64_t inode,
                                  api::NodeAttributes* attributes) {
        EXT2_CALL(context, volume_index);
        Attributes found{};
        if (Status got = volume.attributes(inode, &found); got.is_error()) return got;
        *attributes = api::NodeAttributes{};
        attributes->inode = found.inode;
        attributes->size = found.size;
        attributes->blocks = found.blocks;
        attributes->mode = found.mode;
        attributes->link_count = found.link_count;
        attributes->user_id = found.user_id;
        attributes->group_id = found.group_id;
        attributes->modified_ns = found.modified_ns;
        attributes->changed_ns = found.changed_ns;
        attributes->kind = api::NodeKind(found.kind);
        return Status::ok();
    }
    static Status read_node(void* context, uint32_t volume_index, uint64_t inode, uint64_t offset,
                            void* buffer, uint64_t length, uint64_t* transferred) {
        EXT2_CALL(context, volume_index);
        return volume.read(inode, offset, buffer, length, transferred);
    }
    static Status write_node(void* context, uint32_t volume_index, uint64_t inode, uint64_t offset,
                             const void* data, uint64_t length, uint64_t* transferred) {
        EXT2_CALL(context, volume_index);
        return volume.write(inode, offset, data, length, now_ns(call.binding), transferred);
    }
    static Status truncate_node(void* context, uint32_t volume_index, uint64_t inode,
                                uint64_t size) {
        EXT2_CALL(context, volume_index);
        return volume.truncate(inode, size, now_ns(call.binding));
    }
    static Status create_node(void* context, uint32_t volume_index, uint64_t directory,
                              const char* name, uint64_t length, api::NodeKind kind,
                              uint32_t permissions, uint64_t* inode) {
        EXT2_CALL(context, volume_index);
        if (kind != api::NodeKind::Regular && kind != api::NodeKind::Directory) {
            return UMKA_KABI_EINVAL;
        }
        return volume.create(directory, name, name_length(length), NodeKind(kind), permissions,
                             now_ns(call.binding), inode);
    }
    static Status create_symlink(void* context, uint32_t volume_index, uint64_t directory,
                                 const char* name, uint64_t length, const char* target,
                                 uint64_t target_length, uint64_t* inode) {
        EXT2_CALL(context, volume_index);
        if (target_length > 4095) return UMKA_KABI_ENAMETOOLONG;
        return volume.symlink(directory, name, name_length(length), target, uint32_t(target_length),
                              now_ns(call.binding), inode);
    }
    static Status read_symlink(void* context, uint32_t volume_index, uint64_t inode, void* buffer,
                               uint64_t capacity, uint64_t* length) {
        EXT2_CALL(context, volume_index);
        uint32_t size = 0;
        Status read = volume.read_link(inode, static_cast<char*>(buffer),
                                       capacity > 4096 ? 4096 : uint32_t(capacity), &size);
        *length = size;
        return read;
    }
    static Status link_node(void* context, uint32_t volume_index, uint64_t directory,
                            const char* name, uint64_t length, uint64_t inode) {
        EXT2_CALL(context, volume_index);
        return volume.link(directory, name, name_length(length), inode, now_ns(call.binding));
    }
    static Status unlink_name(void* context, uint32_t volume_index, uint64_t directory,
                              const char* name, uint64_t length) {
        EXT2_CALL(context, volume_index);
        return volume.unlink(directory, name, name_length(length), now_ns(call.binding));
    }
    static Status remove_directory_name(void* context, uint32_t volume_index, uint64_t directory,
                                        const char* name, uint64_t length) {
        EXT2_CALL(context, volume_index);
        return volume.remove_directory(directory, name, name_length(length), now_ns(call.binding));
    }
    static Status rename_name(void* context, uint32_t volume_index, uint64_t from_directory,
                              const char* from_name, uint64_t from_length, uint64_t to_directory,
                              const char* to_name, uint64_t to_length) {
        EXT2_CALL(context, volume_index);
        return volume.rename(from_directory, from_name, name_length(from_length), to_directory,
                             to_name, name_length(to_length), now_ns(call.binding));
    }
    static Status read_directory_record(void* context, uint32_t volume_index, uint64_t directory,
                                        uint64_t cookie, void* record, uint64_t record_length,
                                        uint64_t* next_cookie) {
        if (record_length < sizeof(api::DirectoryRecord)) return UMKA_KABI_EINVAL;
        EXT2_CALL(context, volume_index);
        Entry entry{};
        if (Status read = volume.read_directory(directory, cookie, &entry, next_cookie);
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
    static Status retain_node(void* context, uint32_t volume_index, uint64_t inode) {
        EXT2_CALL(context, volume_index);
        return volume.retain(inode);
    }
    static Status release_node(void* context, uint32_t volume_index, uint64_t inode) {
        EXT2_CALL(context, volume_index);
        return volume.release(inode);
    }
    static Status volume_usage(void* context, uint32_t volume_index, api::FileSystemUsage* usage) {
        EXT2_CALL(context, volume_index);
        Usage counts = volume.usage();
        *usage = api::FileSystemUsage{counts.block_size, counts.total_blocks, counts.free_blocks,
                                      counts.total_inodes, counts.free_inodes};
        return Status::ok();
    }
    static Status sync_volume(void* context, uint32_t volume_index) {
        EXT2_CALL(context, volume_index);
        return volume.sync();
    }
    static Status type_name(void*, void* buffer, uint64_t capacity, uint64_t* length) {
        static constexpr char kName[] = "ext2";
        if (capacity < sizeof kName - 1) return UMKA_KABI_ENOSPC;
        __builtin_memcpy(buffer, kName, sizeof kName - 1);
        *length = sizeof kName - 1;
        return Status::ok();
    }
};
static_assert(__is_empty(FileSystem), "module code keeps no state of its own");

#undef EXT2_CALL

struct Completion {
    static void complete(void* context, uint64_t cookie, int32_t result) {
        complete_request(kabi::binding_of(context), cookie, result);
    }
};

constexpr api::FileSystemVtable file_system_vtable = api::make_file_system_vtable<FileSystem>();
constexpr block::BlockCompletionVtable completion_vtable =
    block::make_block_completion_vtable<Completion>();

}  // namespace
}  // namespace umka::ext2

UMKA_KABI_DEFINE_MANIFEST_EXT2();

// Allocates nothing at start: a volume's memory and the bounce buffer come with a mount.
UMKA_MODULE_ENTRY(binding) {
    namespace ext2 = umka::ext2;
    if (!umka_module_binding_matches(binding, ext2::kRequiredCount, ext2::kProvidedCount, 1)) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "binding of another manifest", 27);
    }
    if (umka::kabi::module_state<ext2::State>(binding) == nullptr) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "no Ext2State region", 19);
    }
    if (int32_t status = umka_module_set_state_import(binding, ext2::import_ext2_state);
        status != UMKA_KABI_OK) {
        return status;
    }
    int32_t provided =
        umka_module_provide(binding, ext2::kFileSystem, &ext2::file_system_vtable, binding);
    if (provided != UMKA_KABI_OK) return provided;
    return umka_module_provide(binding, ext2::kBlockCompletion, &ext2::completion_vtable, binding);
}
