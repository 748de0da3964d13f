// The I/O APICs the MADT lists: their redirection entries route interrupt lines (global
// system interrupts) to a vector on one CPU. Every entry starts masked.
#pragma once

#include "nucleus/acpi/acpi_tables.h"
#include "nucleus/lib/status.h"

namespace umka::arch::io_apic {

// Maps each controller (at most 8), reads how many lines it has, masks them all. A machine
// without one (no MADT entry) is fine: no line can then be routed (ENODEV).
void initialize(const acpi::Summary& acpi);

}  // namespace umka::arch::io_apic
