// libFuzzer target over everything the nucleus reads from a bundle before any signature is
// checked: the cpio archive walk, the entry lookup and the boot manifest parser. Every input
// must be either accepted or refused with a reason; nothing may read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "nucleus/bundle/bundle_inventory.h"

namespace {

void touch_request(void* context, const umka::bundle::ModuleRequest& request) {
    // Reading every byte of the name proves the span is inside the input.
    size_t* sum = static_cast<size_t*>(context);
    for (size_t index = 0; index < request.file.length; ++index) *sum += uint8_t(request.file.text[index]);
}

void touch_parameter(void* context, const umka::bundle::Parameter& parameter) {
    size_t* sum = static_cast<size_t*>(context);
    for (size_t index = 0; index < parameter.key.length; ++index) *sum += uint8_t(parameter.key.text[index]);
    for (size_t index = 0; index < parameter.value.length; ++index) *sum += uint8_t(parameter.value.text[index]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    size_t sum = 0;
    umka::bundle::ManifestVisitor visitor{&sum, touch_request, touch_parameter};
    umka::bundle::Inventory inventory = umka::bundle::inspect_bundle(data, size, visitor);
    bool refused_with_reason =
        inventory.problem == umka::bundle::InventoryProblem::None ||
        (inventory.problem == umka::bundle::InventoryProblem::Archive && inventory.archive_error.reason != nullptr) ||
        (inventory.problem == umka::bundle::InventoryProblem::Manifest && inventory.manifest_error.reason != nullptr) ||
        inventory.problem == umka::bundle::InventoryProblem::ManifestMissing ||
        inventory.problem == umka::bundle::InventoryProblem::ModuleMissing;
    if (!refused_with_reason) abort();

    // The same bytes as a manifest on their own.
    umka::bundle::ManifestError error{};
    umka::Status status = umka::bundle::parse_boot_manifest(reinterpret_cast<const char*>(data), size, visitor, error);
    if (status.is_error() && (error.reason == nullptr || error.line == 0 || error.column == 0)) abort();
    return int(sum & 0);
}
