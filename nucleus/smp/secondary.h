// Bringing up the CPUs the firmware lists, and what each secondary CPU runs once started.
#pragma once

#include "nucleus/lib/status.h"
#include "nucleus/smp/cpu_table.h"

namespace umka {

struct SecondaryStartReport {
    uint32_t started;
    uint32_t failed;
};

// Starts every Offline CPU in the table and waits for each to check in.
SecondaryStartReport start_secondary_cpus();

// Entered on each secondary CPU after arch set up its descriptors and interrupt controller.
[[noreturn]] void secondary_cpu_main(Cpu& cpu);

}  // namespace umka
