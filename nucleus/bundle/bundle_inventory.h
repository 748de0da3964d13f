// The boot bundle read once: every entry of the cpio archive, and the boot manifest's module
// requests, each checked against the entries. Boot loading and live evolution both find
// files here; nothing parses the archive again. Pure: the caller gives the storage
// (the nucleus a static table, host tests and fuzzers a vector).
//
// Policy (docs/module-contract.md, "Manifest errors"):
//   - a broken archive, more entries than the storage holds, two entries with the same name
//     (a second manifest.txt among them) or no manifest: the bundle is refused whole and no
//     module loads, because which file a name means is no longer certain;
//   - a malformed manifest line refuses only what it names (a module line becomes a refused
//     request carrying the line, column and reason); every other line still counts;
//   - a request naming a file the bundle does not hold is refused by name.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/bundle/boot_manifest.h"
#include "nucleus/bundle/cpio_archive.h"
#include "nucleus/lib/status.h"

namespace umka::bundle {

inline constexpr const char* kManifestName = "manifest.txt";
// The nucleus's limits (the storage it gives build_inventory).
inline constexpr size_t kMaximumBundleEntries = 128;
inline constexpr size_t kMaximumModuleRequests = 64;
// Malformed lines kept for the report; more are counted, not kept.
inline constexpr size_t kMaximumReportedManifestErrors = 8;
// `param` lines kept; more are counted (dropped_parameters), not kept.
inline constexpr size_t kMaximumBootParameters = 16;

enum class InventoryProblem : uint8_t {
    None,
    Archive,          // the cpio structure is broken (archive_error says where)
    TooManyEntries,   // more entries than the storage holds
    DuplicateEntry,   // two entries share a name (duplicate_name)
    ManifestMissing,  // no manifest.txt entry
    TooManyRequests,  // more module lines than the storage holds
};

const char* inventory_problem_name(InventoryProblem problem);

enum class RequestProblem : uint8_t {
    None,
    MalformedLine,  // `error` says where and why
    FileMissing,    // the bundle holds no entry of that name
};

struct InventoryRequest {
    ModuleRequest request;  // for a malformed line: its file name and criticality only
    const Entry* entry;     // the bundle entry the request names (None only)
    RequestProblem problem;
    ManifestError error;  // MalformedLine
};

struct InventoryStorage {
    Entry* entries;
    size_t entry_capacity;
    InventoryRequest* requests;
    size_t request_capacity;
};

struct Inventory {
    const uint8_t* archive = nullptr;
    size_t archive_size = 0;
    const Entry* entries = nullptr;
    uint32_t entry_count = 0;
    const InventoryRequest* requests = nullptr;
    uint32_t request_count = 0;
    InventoryProblem problem = InventoryProblem::None;
    ArchiveError archive_error{};
    TextSpan duplicate_name{};  // DuplicateEntry
    // Every malformed manifest line (module or not), the first kMaximumReportedManifestErrors
    // kept in order.
    uint32_t manifest_error_count = 0;
    ManifestError manifest_errors[kMaximumReportedManifestErrors] = {};
    uint32_t missing_count = 0;  // requests refused as FileMissing
    // The manifest's `param key=value` lines, in order (spans into the manifest's bytes).
    Parameter parameters[kMaximumBootParameters] = {};
    uint32_t parameter_count = 0;
    uint32_t dropped_parameters = 0;

    // Whether modules can be loaded from it at all (problem == None).
    bool usable() const { return problem == InventoryProblem::None; }
    // The entry named exactly `name` (all `length` bytes); nullptr when absent.
    const Entry* find(const char* name, size_t length) const;
    const Entry* find(const char* name) const;
    // The value of the last `param` line whose key is exactly `key`; nullptr when none.
    const TextSpan* parameter(const char* key) const;
};

// Reads the archive once into `storage` and checks the manifest against it.
Inventory build_inventory(const uint8_t* archive, size_t size, const InventoryStorage& storage);

}  // namespace umka::bundle
