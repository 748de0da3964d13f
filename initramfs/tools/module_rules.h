// The ELF contract of DESIGN.md §5, checked on a module image at build time (umka-modcheck).
// umka-modcheck's verdict is the nucleus loader's own validate_module; these rules add
// detail on top: they name, for the module's author, every section, symbol or relocation
// behind a violation (the loader stops at the first).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nucleus/crypto/module_signature.h"
#include "nucleus/module/elf_module.h"

namespace umka::tools {

// Rule identifiers, as printed in "umka-modcheck: <file>: <rule>: <detail>".
namespace rule {
inline constexpr const char* kElfHeader = "elf-header";
inline constexpr const char* kInterpreter = "interpreter";
inline constexpr const char* kNeeded = "needed";
inline constexpr const char* kUndefinedSymbol = "undefined-symbol";
inline constexpr const char* kRelocation = "relocation";
inline constexpr const char* kWritableData = "writable-data";
inline constexpr const char* kThreadLocal = "tls";
inline constexpr const char* kInitializer = "initializer";
inline constexpr const char* kManifest = "kabi-manifest";
inline constexpr const char* kWriteExecute = "wx-segment";
inline constexpr const char* kSignature = "signature";
// The nucleus loader's own verdict (validate_module), printed with its reason.
inline constexpr const char* kLoader = "loader";
}  // namespace rule

// The largest module file the tools read: the loader's image limit plus a signature.
inline constexpr size_t kModuleFileSizeLimit =
    size_t(umka::modules::kMaximumImageSize) + umka::crypto::kModuleSignatureOverhead;

struct Violation {
    std::string rule;
    std::string detail;
};

// What a clean module's summary line reports.
struct ModuleFacts {
    std::string module_name;  // from the manifest, when it parsed
    uint32_t module_version = 0;
    size_t relative_relocations = 0;
    size_t section_count = 0;
};

// Checks an unsigned ELF image (strip a signature trailer first), for umka-modcheck and
// umka-sign alike: the nucleus loader's validate_module decides (its refusal comes first,
// rule "loader"), the named rules follow; a module the loader accepts but the rules do not
// is refused too. Returns every violation in a stable order; empty means the module
// follows the contract, and `facts` then holds the manifest's name and version.
std::vector<Violation> check_module(const uint8_t* image, size_t size, ModuleFacts& facts);

}  // namespace umka::tools
