// Trap and per-CPU register set-up, as generic bring-up sees it.
#pragma once

#include "nucleus/lib/status.h"

namespace umka {
struct Cpu;
}

namespace umka::arch {

// Builds the shared interrupt table and loads it on the boot CPU: the first thing after
// the early console, so a fault anywhere in bring-up is reported, not a triple fault.
void initialize_interrupt_table();
// Loads this CPU's descriptor tables and interrupt stacks; sets the per-CPU register.
Status load_cpu_descriptors(Cpu& cpu);
// Points the per-CPU register at `cpu`; nullptr selects the bootstrap record used before
// the CPU table exists.
void set_current_cpu(Cpu* cpu);
// The record the boot CPU uses until the CPU table exists.
Cpu& bootstrap_cpu();
// Moves the boot CPU from the bootstrap record to its table entry, keeping its stacks.
Status adopt_boot_cpu(Cpu& cpu);

}  // namespace umka::arch
