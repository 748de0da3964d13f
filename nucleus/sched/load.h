// Built-in workloads whose counters prove that threads make progress and that a live swap
// under load loses nothing: `load start cpu|alloc|sleep|ring|serial N`, `load stats`,
// `load stop` (`serial`: marker_writer.h).
#pragma once

#include <stdint.h>

#include "nucleus/console/text_output.h"

namespace umka::sched {

void load_command(const char* arguments, console::TextOutput& out);
// `measure switch [N]`: cycles per context switch between two threads over N rounds,
// beside a baseline.
void measure_switch(uint64_t rounds, console::TextOutput& out);

}  // namespace umka::sched
