#include "nucleus/bundle/bundle_inventory.h"

namespace umka::bundle {
namespace {

bool span_equals(const char* name, size_t length, const char* other, size_t other_length) {
    if (length != other_length) return false;
    for (size_t index = 0; index < length; ++index) {
        if (name[index] != other[index]) return false;
    }
    return true;
}

size_t text_length(const char* text) {
    size_t length = 0;
    while (text[length] != '\0') ++length;
    return length;
}

struct Search {
    const char* name;
    size_t length;
    Entry found;
    bool matched;
};

void match_entry(void* context, const Entry& entry) {
    Search& search = *static_cast<Search*>(context);
    if (!search.matched && span_equals(entry.name, entry.name_length, search.name, search.length)) {
        search.found = entry;
        search.matched = true;
    }
}

void count_entry(void* context, const Entry&) { ++*static_cast<uint32_t*>(context); }

struct ManifestCheck {
    const uint8_t* archive;
    size_t size;
    const ManifestVisitor* forward;
    Inventory* inventory;
};

void check_module(void* context, const ModuleRequest& request) {
    ManifestCheck& check = *static_cast<ManifestCheck*>(context);
    ++check.inventory->modules_requested;
    Search search{request.file.text, request.file.length, {}, false};
    ArchiveError ignored{};
    (void)for_each_entry(check.archive, check.size, match_entry, &search, ignored);
    if (!search.matched) {
        if (check.inventory->problem == InventoryProblem::None) {
            check.inventory->problem = InventoryProblem::ModuleMissing;
            check.inventory->missing_module = request.file;
        }
        return;
    }
    if (check.forward->module != nullptr) check.forward->module(check.forward->context, request);
}

void forward_parameter(void* context, const Parameter& parameter) {
    ManifestCheck& check = *static_cast<ManifestCheck*>(context);
    if (check.forward->parameter != nullptr) {
        check.forward->parameter(check.forward->context, parameter);
    }
}

}  // namespace

bool find_entry(const uint8_t* archive, size_t size, const char* name, Entry& found) {
    Search search{name, text_length(name), {}, false};
    ArchiveError error{};
    if (for_each_entry(archive, size, match_entry, &search, error).is_error()) return false;
    if (search.matched) found = search.found;
    return search.matched;
}

Inventory inspect_bundle(const uint8_t* archive, size_t size, const ManifestVisitor& visitor) {
    Inventory inventory;
    if (for_each_entry(archive, size, count_entry, &inventory.entries, inventory.archive_error)
            .is_error()) {
        inventory.problem = InventoryProblem::Archive;
        return inventory;
    }
    Entry manifest{};
    if (!find_entry(archive, size, kManifestName, manifest)) {
        inventory.problem = InventoryProblem::ManifestMissing;
        return inventory;
    }
    ManifestCheck check{archive, size, &visitor, &inventory};
    ManifestVisitor checking{&check, check_module, forward_parameter};
    if (parse_boot_manifest(reinterpret_cast<const char*>(manifest.data), manifest.size, checking,
                            inventory.manifest_error)
            .is_error()) {
        inventory.problem = InventoryProblem::Manifest;
    }
    return inventory;
}

}  // namespace umka::bundle
