// libFuzzer target over everything the nucleus reads from a bundle before any signature is
// checked: the cpio archive walk, the inventory (entries, duplicates, lookups) and the boot
// manifest parser. Every input must be either accepted or refused with a reason; nothing
// may read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "nucleus/bundle/bundle_inventory.h"

namespace {

using namespace umka::bundle;

size_t touch(const char* text, size_t length) {
    // Reading every byte proves the span is inside the input.
    size_t sum = 0;
    for (size_t index = 0; index < length; ++index) sum += uint8_t(text[index]);
    return sum;
}

void touch_request(void* context, const ModuleRequest& request) {
    *static_cast<size_t*>(context) += touch(request.file.text, request.file.length);
}

void touch_parameter(void* context, const Parameter& parameter) {
    *static_cast<size_t*>(context) += touch(parameter.key.text, parameter.key.length) +
                                      touch(parameter.value.text, parameter.value.length);
}

void touch_malformed(void* context, const ManifestError& error, const ModuleRequest* request) {
    if (error.reason == nullptr || error.line == 0 || error.column == 0) abort();
    if (request != nullptr) touch_request(context, *request);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    size_t sum = 0;
    // Small capacities so the fuzzer reaches the limits too.
    std::vector<Entry> entries(16);
    std::vector<InventoryRequest> requests(8);
    InventoryStorage storage{entries.data(), entries.size(), requests.data(), requests.size()};
    Inventory inventory = build_inventory(data, size, storage);
    if (inventory.problem == InventoryProblem::Archive && inventory.archive_error.reason == nullptr)
        abort();
    if (inventory.entry_count > entries.size() || inventory.request_count > requests.size())
        abort();
    for (uint32_t index = 0; index < inventory.entry_count; ++index) {
        const Entry& entry = inventory.entries[index];
        sum += touch(entry.name, entry.name_length);
        sum += touch(reinterpret_cast<const char*>(entry.data), entry.size);
        // Every entry is found under its own name, and (no duplicates in a usable bundle)
        // as itself.
        const Entry* found = inventory.find(entry.name, entry.name_length);
        if (found == nullptr || (inventory.usable() && found != &entry)) abort();
    }
    for (uint32_t index = 0; index < inventory.request_count; ++index) {
        const InventoryRequest& request = inventory.requests[index];
        sum += touch(request.request.file.text, request.request.file.length);
        if (request.problem == RequestProblem::None && request.entry == nullptr) abort();
        if (request.problem == RequestProblem::MalformedLine && request.error.reason == nullptr)
            abort();
    }

    // The same bytes as a manifest on their own.
    ManifestVisitor visitor{&sum, touch_request, touch_parameter, touch_malformed};
    ManifestError error{};
    umka::Status status =
        parse_boot_manifest(reinterpret_cast<const char*>(data), size, visitor, error);
    if (status.is_error() && (error.reason == nullptr || error.line == 0 || error.column == 0))
        abort();
    return int(sum & 0);
}
