// The nucleus's own console (docs/console.md): the fallback that reads the early serial
// port when no console module loaded (or it returned), with a handful of commands. Every
// other command lives in a module (services/shell and others) and reaches the console
// module through console_command.CommandSet.
#pragma once

#include <stddef.h>

#include "nucleus/console/text_output.h"
#include "nucleus/lib/status.h"

namespace umka::console {

inline constexpr const char* kPrompt = "umka> ";

struct Command {
    const char* name;
    const char* help;
    void (*run)(const char* arguments, TextOutput& out);
};

// The command table (console/commands.cpp).
const Command* commands();
size_t command_count();

// Runs one command line of `length` bytes.
// NotFound (with a one-line message in `out`) for an unknown command; an empty line is Ok
// with no output.
Status execute(const char* line, size_t length, TextOutput& out);

// Reads lines forever on the early serial port.
[[noreturn]] void run();

}  // namespace umka::console
