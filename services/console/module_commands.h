// Commands that modules add to the console (kabi-idl/console_command.kabi): every provider
// of console_command.CommandSet, found through the nucleus's service_directory.Directory
// per command line (never cached, so a module loaded or swapped since is seen at once).
#pragma once

#include <stdint.h>

#include "umka/kabi/kabi_base.h"
#include "umka/module_entry.h"

namespace umka::console_service {

// CommandSet.execute takes 1 to 32 words; a longer line is refused, not cut.
inline constexpr uint32_t kMaximumWords = 32;
// Providers the console asks, in precedence order (CommandSet.precedence, then registry
// order); more than this many are not listed or reached.
inline constexpr uint32_t kMaximumCommandSets = 32;
// Version 1 sets (no precedence) are asked too.
inline constexpr uint32_t kMinimumCommandSetVersion = 1;

// A command line as CommandSet.execute takes it: each word followed by a NUL byte.
struct CommandWords {
    char bytes[256 + kMaximumWords];
    uint64_t length;
    uint32_t count;
};

enum class SplitResult : uint8_t { Words, Empty, TooManyWords, TooLong };

// Splits `line` at blanks (spaces and tabs).
SplitResult split_words(const char* line, uint64_t length, CommandWords& out);

// Appends every command set's description to `output` (capacity bytes, `*written` already
// used). ENOSPC when it did not all fit; other errors of a set are skipped (its lines are
// simply missing), so one broken module cannot hide the others' commands.
kabi::Status describe_module_commands(const UmkaModuleBinding* binding, uint32_t directory,
                                      uint8_t* output, uint64_t capacity, uint64_t* written);

// Offers `words` to each command set in turn until one does not answer ENOENT; its output
// goes to `output`. ENOENT: no set knows the command.
kabi::Status execute_module_command(const UmkaModuleBinding* binding, uint32_t directory,
                                    const CommandWords& words, uint8_t* output, uint64_t capacity,
                                    uint64_t* written);

}  // namespace umka::console_service
