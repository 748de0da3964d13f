#include "nucleus/bundle/bundle_inventory.h"

namespace umka::bundle {
namespace {

bool same_name(const char* name, size_t length, const char* other, size_t other_length) {
    if (length != other_length) return false;
    for (size_t index = 0; index < length; ++index) {
        if (name[index] != other[index]) return false;
    }
    return true;
}

struct Reading {
    const InventoryStorage* storage;
    Inventory* inventory;
    bool overflow;
};

void keep_entry(void* context, const Entry& entry) {
    Reading& reading = *static_cast<Reading*>(context);
    if (reading.inventory->entry_count == reading.storage->entry_capacity) {
        reading.overflow = true;
        return;
    }
    reading.storage->entries[reading.inventory->entry_count++] = entry;
}

struct ManifestReading {
    const InventoryStorage* storage;
    Inventory* inventory;
};

InventoryRequest* next_request(ManifestReading& reading) {
    Inventory& inventory = *reading.inventory;
    if (inventory.request_count == reading.storage->request_capacity) {
        inventory.problem = InventoryProblem::TooManyRequests;
        return nullptr;
    }
    InventoryRequest* request = &reading.storage->requests[inventory.request_count++];
    *request = InventoryRequest{};
    return request;
}

void add_module(void* context, const ModuleRequest& module) {
    ManifestReading& reading = *static_cast<ManifestReading*>(context);
    InventoryRequest* request = next_request(reading);
    if (request == nullptr) return;
    request->request = module;
    request->entry = reading.inventory->find(module.file.text, module.file.length);
    if (request->entry == nullptr) {
        request->problem = RequestProblem::FileMissing;
        ++reading.inventory->missing_count;
    }
}

void add_parameter(void* context, const Parameter& parameter) {
    Inventory& inventory = *static_cast<ManifestReading*>(context)->inventory;
    if (inventory.parameter_count == kMaximumBootParameters) {
        ++inventory.dropped_parameters;
        return;
    }
    inventory.parameters[inventory.parameter_count++] = parameter;
}

void add_malformed(void* context, const ManifestError& error, const ModuleRequest* module) {
    ManifestReading& reading = *static_cast<ManifestReading*>(context);
    Inventory& inventory = *reading.inventory;
    if (inventory.manifest_error_count < kMaximumReportedManifestErrors) {
        inventory.manifest_errors[inventory.manifest_error_count] = error;
    }
    ++inventory.manifest_error_count;
    if (module == nullptr) return;
    InventoryRequest* request = next_request(reading);
    if (request == nullptr) return;
    request->request = *module;
    request->problem = RequestProblem::MalformedLine;
    request->error = error;
}

}  // namespace

const char* inventory_problem_name(InventoryProblem problem) {
    switch (problem) {
    case InventoryProblem::None:
        return "none";
    case InventoryProblem::Archive:
        return "corrupt archive";
    case InventoryProblem::TooManyEntries:
        return "too many entries";
    case InventoryProblem::DuplicateEntry:
        return "duplicate entry";
    case InventoryProblem::ManifestMissing:
        return "no manifest";
    case InventoryProblem::TooManyRequests:
        return "too many module lines";
    }
    return "?";
}

const Entry* Inventory::find(const char* name, size_t length) const {
    for (uint32_t index = 0; index < entry_count; ++index) {
        if (same_name(entries[index].name, entries[index].name_length, name, length)) {
            return &entries[index];
        }
    }
    return nullptr;
}

const Entry* Inventory::find(const char* name) const {
    size_t length = 0;
    while (name[length] != '\0') ++length;
    return find(name, length);
}

const TextSpan* Inventory::parameter(const char* key) const {
    for (uint32_t index = parameter_count; index-- > 0;) {
        if (parameters[index].key.equals(key)) return &parameters[index].value;
    }
    return nullptr;
}

Inventory build_inventory(const uint8_t* archive, size_t size, const InventoryStorage& storage) {
    Inventory inventory;
    inventory.archive = archive;
    inventory.archive_size = size;
    inventory.entries = storage.entries;
    inventory.requests = storage.requests;
    Reading reading{&storage, &inventory, false};
    if (for_each_entry(archive, size, keep_entry, &reading, inventory.archive_error).is_error()) {
        inventory.problem = InventoryProblem::Archive;
        inventory.entry_count = 0;
        return inventory;
    }
    if (reading.overflow) {
        inventory.problem = InventoryProblem::TooManyEntries;
        return inventory;
    }
    // A name that means two files is refused outright: a lookup would pick one silently.
    for (uint32_t index = 1; index < inventory.entry_count; ++index) {
        const Entry& entry = storage.entries[index];
        for (uint32_t earlier = 0; earlier < index; ++earlier) {
            const Entry& other = storage.entries[earlier];
            if (same_name(entry.name, entry.name_length, other.name, other.name_length)) {
                inventory.problem = InventoryProblem::DuplicateEntry;
                inventory.duplicate_name = TextSpan{entry.name, entry.name_length};
                return inventory;
            }
        }
    }
    const Entry* manifest = inventory.find(kManifestName);
    if (manifest == nullptr) {
        inventory.problem = InventoryProblem::ManifestMissing;
        return inventory;
    }
    ManifestReading manifest_reading{&storage, &inventory};
    ManifestVisitor visitor{&manifest_reading, add_module, add_parameter, add_malformed};
    ManifestError first{};
    (void)parse_boot_manifest(reinterpret_cast<const char*>(manifest->data), manifest->size,
                              visitor, first);
    return inventory;
}

}  // namespace umka::bundle
