// The nucleus's boot console: a line editor on the early serial port and a table of
// commands. It moves into a service module once the module system exists.
#pragma once

#include <stddef.h>

namespace umka::console {

inline constexpr const char* kPrompt = "umka> ";

struct Command {
    const char* name;
    const char* help;
    void (*run)(const char* arguments);
};

// The command table (console/commands.cpp).
const Command* commands();
size_t command_count();

// Runs one input line; unknown commands get a one-line error.
void execute(const char* line);

// Reads lines forever.
[[noreturn]] void run();

}  // namespace umka::console
