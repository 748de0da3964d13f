// Validation of a .kabi_manifest section's bytes against the layout kabi-gen emits
// (kabi_base.h: umka_kabi_manifest_header, then provides[], requires[], states[]).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "initramfs/tools/module_rules.h"

namespace umka::tools {

// Appends one kabi-manifest violation per problem; fills facts.module_name and
// facts.module_version when the header is readable.
void check_manifest(const uint8_t* bytes, size_t size, std::vector<Violation>& violations,
                    ModuleFacts& facts);

}  // namespace umka::tools
