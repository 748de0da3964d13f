// Where an ISA interrupt arrives: the ACPI MADT's interrupt source overrides say which
// interrupt line ISA IRQ n is wired to and with which polarity and trigger; an IRQ without
// one is on line n, active high, edge triggered (the ISA bus's default). Pure, so the host
// tests run it on QEMU's captured tables.
#pragma once

#include <arch/interrupts.h>
#include <stddef.h>
#include <stdint.h>

#include "nucleus/acpi/acpi_tables.h"

namespace umka::interrupts {

inline constexpr uint8_t kIsaIrqCount = 16;

struct LegacyRoute {
    uint32_t line;
    arch::LinePolarity polarity;
    arch::LineTrigger trigger;
};

LegacyRoute route_isa_irq(uint8_t irq, const acpi::InterruptOverride* overrides, size_t count);

}  // namespace umka::interrupts
