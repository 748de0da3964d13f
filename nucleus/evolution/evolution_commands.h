// The console's `evolve` and `history` commands (docs/evolution.md).
#pragma once

#include "nucleus/console/text_output.h"

namespace umka::evolution {

void evolve_command(const char* arguments, console::TextOutput& out);
void history_command(const char* arguments, console::TextOutput& out);

}  // namespace umka::evolution
