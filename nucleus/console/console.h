// The nucleus's own console (docs/console.md): the fallback that reads the early serial
// port when no console module loaded (or it returned), with a handful of commands. Every
// other command lives in a module (services/shell and others) and reaches the console
// module through console_command.CommandSet.
#pragma once

#include <stddef.h>

#include "nucleus/console/text_output.h"
#include "nucleus/lib/status.h"
#include "nucleus/module/diagnostic.h"
#include "nucleus/module/service_registry.h"

namespace umka::console {

inline constexpr const char* kPrompt = "umka> ";

// Where a nucleus command can be typed: only at the fallback console, or also at the
// console module (through the nucleus's CommandSet, for commands no module serves yet).
enum class Reach : unsigned char { Fallback, Everywhere };

struct Command {
    const char* name;
    const char* help;
    void (*run)(const char* arguments, TextOutput& out);
    Reach reach;
};

// The command table (console/commands.cpp).
const Command* commands();
size_t command_count();

// Runs one command line of `length` bytes against the commands of `reach` (Fallback: all).
// NotFound (with a one-line message in `out`) for an unknown command; an empty line is Ok
// with no output.
Status execute(const char* line, size_t length, Reach reach, TextOutput& out);

// Publishes console_command.CommandSet for the commands of Reach::Everywhere.
Status publish_command_set(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);

// Reads lines forever on the early serial port.
[[noreturn]] void run();

}  // namespace umka::console
