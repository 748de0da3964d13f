// The nucleus's own console device: the first serial port. It is the panic-safe writer:
// `early_console_write` takes no lock and never allocates, so a fault handler can use it.
#pragma once

#include <stddef.h>

namespace umka::arch {

void early_console_init();
void early_console_write(const char* text, size_t length);
// Returns true and stores a character when one is waiting; never blocks.
bool early_console_poll(char& character);

}  // namespace umka::arch
