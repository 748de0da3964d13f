// What a boot bundle holds: its entries, and the boot manifest's module requests checked
// against them. Pure; bring-up reports the result and the module loader consumes it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/bundle/boot_manifest.h"
#include "nucleus/bundle/cpio_archive.h"
#include "nucleus/lib/status.h"

namespace umka::bundle {

inline constexpr const char* kManifestName = "manifest.txt";

enum class InventoryProblem : uint8_t {
    None,
    Archive,           // the cpio structure is broken (archive_error says where)
    ManifestMissing,   // no manifest.txt entry
    Manifest,          // manifest.txt is malformed (manifest_error says where)
    ModuleMissing,     // the manifest names a file the bundle does not hold
};

struct Inventory {
    uint32_t entries = 0;
    uint32_t modules_requested = 0;
    InventoryProblem problem = InventoryProblem::None;
    ArchiveError archive_error{};
    ManifestError manifest_error{};
    TextSpan missing_module{};  // valid when problem == ModuleMissing
};

// Finds an entry by name; false if absent or the archive is malformed.
bool find_entry(const uint8_t* archive, size_t size, const char* name, Entry& found);

// Checks the archive and the manifest. `visitor.module` is called for each module request
// whose file exists in the bundle, in manifest order.
Inventory inspect_bundle(const uint8_t* archive, size_t size, const ManifestVisitor& visitor);

}  // namespace umka::bundle
