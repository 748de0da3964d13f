// Semantic analysis: resolves names across imports, computes layouts, and enforces every
// rule a well-formed interface must meet. See docs/kabi-idl.md "Rules".
#pragma once

#include <functional>
#include <string>

#include "ast.h"
#include "diagnostics.h"

namespace kabi {

// Finds an already-checked imported file by package name.
using PackageLookup = std::function<const File*(const std::string& package)>;

// Checks `file` in place (filling resolved types, offsets and errno values).
void check_file(File& file, const PackageLookup& lookup, DiagnosticSink& sink);

// Bytes of the ring argument record (request) and result record (completion) of a method.
struct RingRecordSizes {
    uint64_t request = 0;
    uint64_t completion = 0;
};
RingRecordSizes ring_record_sizes(const Method& method);

// Payload bytes in one ring entry; must match UMKA_KABI_RING_PAYLOAD_SIZE in kabi_base.h.
inline constexpr uint64_t ring_payload_size = 112;

// The layout of a state schema at one version (fields with since <= v < removed).
struct StateLayout {
    std::vector<const Field*> fields;
    std::vector<uint64_t> offsets;
    uint64_t size = 0;
    uint64_t alignment = 1;
};
StateLayout state_layout(const StateDecl& state, uint32_t version);

// True when going from `version - 1` to `version` removes a field (not append-only).
bool state_step_is_breaking(const StateDecl& state, uint32_t version);
bool state_has_hook(const StateDecl& state, uint32_t from_version);

}  // namespace kabi
