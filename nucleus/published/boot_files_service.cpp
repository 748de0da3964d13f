// boot_files.BootFiles: the boot bundle's entries under root/, read in place from the
// archive the inventory already checked (nothing is copied or parsed again). The bundle is
// read-only and lives as long as the nucleus, so a file's index names the same bytes for
// the whole boot.
#include "nucleus/loader/module_system.h"
#include "nucleus/published/nucleus_services.h"
#include "nucleus/system.h"
#include "umka/kabi/boot_files.hpp"

namespace umka::loader {
namespace {

namespace api = umka::kabi::boot_files;

constexpr char kRootPrefix[] = "root/";
constexpr size_t kRootPrefixLength = sizeof kRootPrefix - 1;

bool under_root(const bundle::Entry& entry) {
    return entry.name_length > kRootPrefixLength &&
           __builtin_memcmp(entry.name, kRootPrefix, kRootPrefixLength) == 0 &&
           entry.name_length - kRootPrefixLength < sizeof(api::BootFile{}.name);
}

// The `index`-th entry under root/, or nullptr.
const bundle::Entry* root_file(uint32_t index) {
    const bundle::Inventory& inventory = module_system().inventory();
    if (!inventory.usable()) return nullptr;
    for (uint32_t at = 0; at < inventory.entry_count; ++at) {
        const bundle::Entry& entry = inventory.entries[at];
        if (!under_root(entry)) continue;
        if (index-- == 0) return &entry;
    }
    return nullptr;
}

struct BootFilesService {
    [[gnu::always_inline]] static inline Status file(void*, uint32_t index, api::BootFile* file) {
        const bundle::Entry* entry = root_file(index);
        if (entry == nullptr || file == nullptr) return Errno::NotFound;
        *file = api::BootFile{};
        file->size = entry->size;
        file->mode = entry->mode;
        file->name_length = uint32_t(entry->name_length - kRootPrefixLength);
        __builtin_memcpy(file->name, entry->name + kRootPrefixLength, file->name_length);
        return Status::ok();
    }

    [[gnu::always_inline]] static inline Status read(void*, uint32_t index, uint64_t offset,
                                                     void* buffer, uint64_t length,
                                                     uint64_t* transferred) {
        const bundle::Entry* entry = root_file(index);
        if (entry == nullptr || transferred == nullptr) return Errno::NotFound;
        uint64_t available = offset < entry->size ? entry->size - offset : 0;
        uint64_t count = length < available ? length : available;
        if (count != 0) __builtin_memcpy(buffer, entry->data + offset, count);
        *transferred = count;
        return Status::ok();
    }
};

constexpr api::BootFilesVtable kBootFilesVtable = api::make_boot_files_vtable<BootFilesService>();

}  // namespace

Status publish_boot_files(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic) {
    return publish_vtable(registry, "boot_files", "BootFiles",
                          reinterpret_cast<const umka_kabi_vtable_header*>(&kBootFilesVtable),
                          kBootFilesVtable.version, diagnostic);
}

}  // namespace umka::loader
