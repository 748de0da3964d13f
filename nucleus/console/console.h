// The nucleus's commands, and the nucleus's own fallback console. The console service
// module (services/console) reaches the same commands through the nucleus_shell.Shell
// interface; the fallback runs only when no console module could be loaded.
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

// Lists the commands, one "name  description" line each.
void describe(TextOutput& out);

// Runs one command line of `length` bytes. NotFound (with a one-line message in `out`) for
// an unknown command; an empty line is Ok with no output.
Status execute(const char* line, size_t length, TextOutput& out);

// The nucleus's own console on the early serial port: used when no console module was
// loaded (or it returned). Reads lines forever.
[[noreturn]] void run();

}  // namespace umka::console
