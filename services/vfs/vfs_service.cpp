// The VFS service module's entry and its vfs.Vfs vtable: each call takes the call lock,
// mounts the root on first use, finds the caller's descriptor table, and forwards to
// file_operations.cpp, descriptor_tables.cpp or mount_table.cpp.
#include "descriptor_tables.h"
#include "file_operations.h"
#include "umka/kabi/vfs_service_manifest.hpp"
#include "vfs_versions.h"

namespace umka::vfs {

CallGuard::CallGuard(const UmkaModuleBinding* binding) : state_(state_of(binding)) {
    services::ThreadsRef threads;
    bool can_yield = kabi::bind_required(binding, kThreads, &threads).is_ok();
    uint32_t idle = 0;
    while (!__atomic_compare_exchange_n(&state_.lock, &idle, 1u, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
        idle = 0;
        if (can_yield) threads.yield_now();
    }
    __atomic_add_fetch(&state_.calls_served, 1u, __ATOMIC_RELAXED);
}

CallGuard::~CallGuard() {
    __atomic_store_n(&state_.lock, 0u, __ATOMIC_RELEASE);
}

namespace {

// Every call: the lock, then the root (mounted at first use, since the file system driver
// may start after this module), then the caller's descriptor table.
struct Call {
    Call(void* context, api::DescriptorTable handle)
        : binding(kabi::binding_of(context)), guard(binding), root(ensure_root(binding)) {
        if (root.is_ok()) table = table_of(state_of(binding), handle);
    }
    Status status() const {
        if (root.is_error()) return root;
        return table == nullptr ? Status(UMKA_KABI_EINVAL) : Status::ok();
    }
    const UmkaModuleBinding* binding;
    CallGuard guard;
    Status root;
    Table* table = nullptr;
};

#define VFS_CALL(context, handle)                                     \
    Call call(context, handle);                                       \
    if (Status ready = call.status(); ready.is_error()) return ready; \
    [[maybe_unused]] MountedNamespace names(call.binding, *call.table)

constexpr api::DescriptorTable kConsoleTable{0};

struct Vfs {
    static Status create_table(void* context, api::DescriptorTable* table) {
        VFS_CALL(context, kConsoleTable);
        return vfs::create_table(call.binding, table);
    }
    static Status copy_table(void* context, api::DescriptorTable table,
                             api::DescriptorTable* copy) {
        VFS_CALL(context, table);
        return vfs::copy_table(names, copy);
    }
    static Status destroy_table(void* context, api::DescriptorTable table) {
        VFS_CALL(context, table);
        return vfs::destroy_table(names);
    }
    static Status change_directory(void* context, api::DescriptorTable table, const char* path,
                                   uint64_t length) {
        VFS_CALL(context, table);
        return vfs::change_directory(names, path, length);
    }
    static Status working_directory(void* context, api::DescriptorTable table, void* buffer,
                                    uint64_t capacity, uint64_t* length) {
        VFS_CALL(context, table);
        return vfs::working_directory(names, static_cast<char*>(buffer), capacity, length);
    }
    static Status duplicate_descriptor(void* context, api::DescriptorTable table,
                                       uint32_t descriptor, uint32_t* copy) {
        VFS_CALL(context, table);
        return vfs::duplicate_descriptor(names, descriptor, copy);
    }
    static Status open_file_in(void* context, api::DescriptorTable table, const char* path,
                               uint64_t length, api::OpenFlags flags, uint32_t mode,
                               uint32_t* descriptor) {
        VFS_CALL(context, table);
        return vfs::open_file(names, path, length, uint32_t(flags), mode, descriptor);
    }
    static Status close_file_in(void* context, api::DescriptorTable table, uint32_t descriptor) {
        VFS_CALL(context, table);
        return vfs::close_file(names, descriptor);
    }
    static Status read_file_in(void* context, api::DescriptorTable table, uint32_t descriptor,
                               void* buffer, uint64_t length, uint64_t* transferred) {
        VFS_CALL(context, table);
        return transfer(names, descriptor, Direction::Read, Position::Description, 0, buffer,
                        length, transferred);
    }
    static Status write_file_in(void* context, api::DescriptorTable table, uint32_t descriptor,
                                const void* data, uint64_t length, uint64_t* transferred) {
        VFS_CALL(context, table);
        return transfer(names, descriptor, Direction::Write, Position::Description, 0,
                        const_cast<void*>(data), length, transferred);
    }
    static Status read_at_in(void* context, api::DescriptorTable table, uint32_t descriptor,
                             uint64_t offset, void* buffer, uint64_t length,
                             uint64_t* transferred) {
        VFS_CALL(context, table);
        return transfer(names, descriptor, Direction::Read, Position::Explicit, offset, buffer,
                        length, transferred);
    }
    static Status write_at_in(void* context, api::DescriptorTable table, uint32_t descriptor,
                              uint64_t offset, const void* data, uint64_t length,
                              uint64_t* transferred) {
        VFS_CALL(context, table);
        return transfer(names, descriptor, Direction::Write, Position::Explicit, offset,
                        const_cast<void*>(data), length, transferred);
    }
    static Status seek_file_in(void* context, api::DescriptorTable table, uint32_t descriptor,
                               int64_t offset, uint8_t whence, uint64_t* position) {
        VFS_CALL(context, table);
        return vfs::seek_file(names, descriptor, offset, whence, position);
    }
    static Status stat_path_in(void* context, api::DescriptorTable table, const char* path,
                               uint64_t length, uint8_t follow, api::NodeAttributes* attributes) {
        VFS_CALL(context, table);
        return vfs::stat_path(names, path, length, follow != 0, attributes);
    }
    static Status stat_file_in(void* context, api::DescriptorTable table, uint32_t descriptor,
                               api::NodeAttributes* attributes) {
        VFS_CALL(context, table);
        return vfs::stat_file(names, descriptor, attributes);
    }
    static Status read_directory_entry_in(void* context, api::DescriptorTable table,
                                          uint32_t descriptor, void* record, uint64_t length) {
        if (length < sizeof(api::DirectoryRecord)) return UMKA_KABI_EINVAL;
        VFS_CALL(context, table);
        return vfs::read_directory_entry(names, descriptor,
                                         static_cast<api::DirectoryRecord*>(record));
    }
    static Status make_directory_in(void* context, api::DescriptorTable table, const char* path,
                                    uint64_t length, uint32_t mode) {
        VFS_CALL(context, table);
        return make_node(names, path, length, NodeKind::Directory, mode, nullptr, 0);
    }
    static Status remove_directory_in(void* context, api::DescriptorTable table, const char* path,
                                      uint64_t length) {
        VFS_CALL(context, table);
        return remove_node(names, path, length, NodeKind::Directory);
    }
    static Status unlink_path_in(void* context, api::DescriptorTable table, const char* path,
                                 uint64_t length) {
        VFS_CALL(context, table);
        return remove_node(names, path, length, NodeKind::Regular);
    }
    static Status rename_path_in(void* context, api::DescriptorTable table, const char* from,
                                 uint64_t from_length, const char* to, uint64_t to_length) {
        VFS_CALL(context, table);
        return vfs::rename_path(names, from, from_length, to, to_length);
    }
    static Status link_path_in(void* context, api::DescriptorTable table, const char* existing,
                               uint64_t existing_length, const char* path, uint64_t length) {
        VFS_CALL(context, table);
        return vfs::link_path(names, existing, existing_length, path, length);
    }
    static Status symlink_path_in(void* context, api::DescriptorTable table, const char* target,
                                  uint64_t target_length, const char* path, uint64_t length) {
        VFS_CALL(context, table);
        return make_node(names, path, length, NodeKind::Symlink, 0777, target, target_length);
    }
    static Status read_link_path_in(void* context, api::DescriptorTable table, const char* path,
                                    uint64_t length, void* buffer, uint64_t capacity,
                                    uint64_t* link_length) {
        VFS_CALL(context, table);
        return vfs::read_link_path(names, path, length, buffer, capacity, link_length);
    }
    static Status truncate_path_in(void* context, api::DescriptorTable table, const char* path,
                                   uint64_t length, uint64_t size) {
        VFS_CALL(context, table);
        return vfs::truncate_path(names, path, length, size);
    }
    static Status sync_file_in(void* context, api::DescriptorTable table, uint32_t descriptor) {
        VFS_CALL(context, table);
        return vfs::sync_file(names, descriptor);
    }
    static Status sync_all(void* context) {
        VFS_CALL(context, kConsoleTable);
        return vfs::sync_all(names);
    }
    static Status usage_of_in(void* context, api::DescriptorTable table, const char* path,
                              uint64_t length, api::FileSystemUsage* usage) {
        VFS_CALL(context, table);
        return vfs::usage_of(names, path, length, usage);
    }
    static Status mount_entry(void* context, uint32_t index, void* record, uint64_t length) {
        if (length < sizeof(api::MountRecord)) return UMKA_KABI_EINVAL;
        VFS_CALL(context, kConsoleTable);
        return vfs::mount_entry(call.binding, index, static_cast<api::MountRecord*>(record));
    }
    static Status mount_at_in(void* context, api::DescriptorTable table, const char* source,
                              uint64_t source_length, const char* target, uint64_t target_length,
                              const char* file_system, uint64_t file_system_length) {
        VFS_CALL(context, table);
        return vfs::mount_at(names, source, source_length, target, target_length, file_system,
                             file_system_length);
    }
    static Status unmount_at_in(void* context, api::DescriptorTable table, const char* target,
                                uint64_t target_length) {
        VFS_CALL(context, table);
        return vfs::unmount_at(names, target, target_length);
    }
};
static_assert(__is_empty(Vfs), "module code keeps no state of its own");

#undef VFS_CALL

constexpr api::VfsVtable vfs_vtable = api::make_vfs_vtable<Vfs>();

}  // namespace
}  // namespace umka::vfs

UMKA_KABI_DEFINE_MANIFEST_VFS_SERVICE();

// Mounts nothing at start: the root's file system driver may start after this module
// (it is found through the service directory at the first call).
UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, umka::vfs::kRequiredCount, umka::vfs::kProvidedCount,
                                     umka::vfs::kStateCount)) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "binding of another manifest", 27);
    }
    if (umka::kabi::module_state<umka::vfs::State>(binding) == nullptr) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "no VfsState region", 18);
    }
    if (int32_t status = umka_module_set_state_import(binding, umka::vfs::import_vfs_state);
        status != UMKA_KABI_OK) {
        return status;
    }
    return umka_module_provide(binding, umka::vfs::kVfs, &umka::vfs::vfs_vtable, binding);
}
