// Names of x86-64 relocation types, for messages that say which relocation broke a rule.
#pragma once

#include <cstdint>
#include <string>

namespace umka::tools {

// "R_X86_64_JUMP_SLOT" for 7; "relocation type N" for a type this table does not know.
std::string x86_64_relocation_name(uint32_t type);

}  // namespace umka::tools
