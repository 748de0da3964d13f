#include "initramfs/tools/relocation_names.h"

#include "nucleus/module/elf_format.h"

namespace umka::tools {

// The nucleus's table, so the tool and the loader name relocations identically.
std::string x86_64_relocation_name(uint32_t type) {
    std::string name = modules::elf::relocation_type_name(type);
    if (name == "unknown") return "relocation type " + std::to_string(type);
    return name;
}

}  // namespace umka::tools
