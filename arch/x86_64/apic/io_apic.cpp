// The I/O APIC (82093AA datasheet; Intel SDM vol. 3, 11.2): IOREGSEL at +0 selects a
// register, IOWIN at +0x10 reads or writes it; register 1 holds the version and the highest
// redirection entry, entry n is registers 0x10 + 2n (low: vector, delivery, polarity (13),
// trigger (15), mask (16)) and 0x11 + 2n (high: destination APIC id in 31:24). The
// select/window pair is one operation, so every access holds the lock; it is taken with
// interrupts off, so the device-interrupt path can mask a line too.
#include "arch/x86_64/apic/io_apic.h"

#include <arch/interrupts.h>
#include <arch/memory.h>

#include "nucleus/lib/log.h"
#include "nucleus/lib/spinlock.h"

namespace umka::arch {
namespace io_apic {
namespace {

constexpr uint32_t kMaximumControllers = 8;
constexpr uint32_t kRegisterVersion = 0x01;
constexpr uint32_t kRedirectionBase = 0x10;
constexpr uint32_t kMasked = 1u << 16;
constexpr uint32_t kLevelTriggered = 1u << 15;
constexpr uint32_t kActiveLow = 1u << 13;

struct Controller {
    volatile uint32_t* registers;
    uint32_t first_line;
    uint32_t line_count;
};

struct Controllers {
    SpinLock lock{LockLevel::InterruptLines};
    Controller entries[kMaximumControllers]{};
    uint32_t count = 0;
};

constinit Controllers controllers;

uint32_t read_register(const Controller& controller, uint32_t index) {
    controller.registers[0] = index;
    return controller.registers[4];
}

void write_register(const Controller& controller, uint32_t index, uint32_t value) {
    controller.registers[0] = index;
    controller.registers[4] = value;
}

const Controller* controller_of(uint32_t line) {
    for (uint32_t index = 0; index < controllers.count; ++index) {
        const Controller& controller = controllers.entries[index];
        if (line >= controller.first_line && line - controller.first_line < controller.line_count) {
            return &controller;
        }
    }
    return nullptr;
}

void add(void*, const acpi::IoController& found) {
    if (controllers.count == kMaximumControllers) {
        log("ioapic: more than %u I/O APICs; id %u ignored\n", kMaximumControllers, found.id);
        return;
    }
    Result<void*> mapped = map_physical(found.address, 0x20, DeviceAccess::ReadWriteUncached);
    if (mapped.is_error()) {
        log("ioapic: id %u at 0x%lx could not be mapped\n", found.id, found.address);
        return;
    }
    Controller controller{static_cast<volatile uint32_t*>(mapped.value()), found.interrupt_base, 0};
    controller.line_count = ((read_register(controller, kRegisterVersion) >> 16) & 0xFF) + 1;
    for (uint32_t entry = 0; entry < controller.line_count; ++entry) {
        write_register(controller, kRedirectionBase + 2 * entry, kMasked);
    }
    controllers.entries[controllers.count++] = controller;
}

}  // namespace

// On the boot CPU before any other runs and before any line is routed: no lock (mapping a
// controller takes the address-space lock, which the leaf lock may not hold).
void initialize(const acpi::Summary& acpi) {
    acpi::for_each_io_controller(kernel_physical_view(), acpi, add, nullptr);
}

}  // namespace io_apic

Status route_interrupt_line(uint32_t line, uint8_t vector, uint32_t hardware_id,
                            LinePolarity polarity, LineTrigger trigger) {
    SpinLockGuard guard(io_apic::controllers.lock);
    const io_apic::Controller* controller = io_apic::controller_of(line);
    if (controller == nullptr) return Errno::NoDevice;
    uint32_t entry = io_apic::kRedirectionBase + 2 * (line - controller->first_line);
    uint32_t low = vector | io_apic::kMasked;  // fixed delivery, physical destination
    if (polarity == LinePolarity::ActiveLow) low |= io_apic::kActiveLow;
    if (trigger == LineTrigger::Level) low |= io_apic::kLevelTriggered;
    io_apic::write_register(*controller, entry, io_apic::kMasked);
    io_apic::write_register(*controller, entry + 1, (hardware_id & 0xFF) << 24);
    io_apic::write_register(*controller, entry, low);
    return Status::ok();
}

void set_interrupt_line_masked(uint32_t line, bool masked) {
    SpinLockGuard guard(io_apic::controllers.lock);
    const io_apic::Controller* controller = io_apic::controller_of(line);
    if (controller == nullptr) return;
    uint32_t entry = io_apic::kRedirectionBase + 2 * (line - controller->first_line);
    uint32_t low = io_apic::read_register(*controller, entry);
    io_apic::write_register(*controller, entry,
                            masked ? (low | io_apic::kMasked) : (low & ~io_apic::kMasked));
}

}  // namespace umka::arch
