#include "nucleus/interrupts/legacy_routing.h"

namespace umka::interrupts {

LegacyRoute route_isa_irq(uint8_t irq, const acpi::InterruptOverride* overrides, size_t count) {
    LegacyRoute route{irq, arch::LinePolarity::ActiveHigh, arch::LineTrigger::Edge};
    for (size_t index = 0; index < count; ++index) {
        const acpi::InterruptOverride& entry = overrides[index];
        if (entry.bus != 0 || entry.source != irq) continue;  // bus 0 is ISA
        route.line = entry.line;
        // MPS INTI flags: polarity 01 high, 11 low; trigger 01 edge, 11 level; 00 the ISA
        // default (high, edge); 10 is reserved and read as the default too.
        if ((entry.flags & 3u) == 3u) route.polarity = arch::LinePolarity::ActiveLow;
        if (((entry.flags >> 2) & 3u) == 3u) route.trigger = arch::LineTrigger::Level;
        break;
    }
    return route;
}

}  // namespace umka::interrupts
