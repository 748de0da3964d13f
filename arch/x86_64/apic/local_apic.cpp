#include "arch/x86_64/apic/local_apic.h"

#include <arch/cpu.h>
#include <arch/memory.h>

#include "arch/x86_64/cpu/traps.h"

namespace umka::arch::local_apic {
namespace {

constexpr uint32_t kId = 0x020;
constexpr uint32_t kEndOfInterrupt = 0x0B0;
constexpr uint32_t kSpuriousVector = 0x0F0;
constexpr uint32_t kCommandLow = 0x300;
constexpr uint32_t kCommandHigh = 0x310;
constexpr uint32_t kTimerVector = 0x320;
constexpr uint32_t kTimerInitialCount = 0x380;
constexpr uint32_t kTimerCurrentCount = 0x390;
constexpr uint32_t kTimerDivide = 0x3E0;
constexpr uint32_t kSoftwareEnable = 1u << 8;
constexpr uint32_t kDeliveryPending = 1u << 12;
constexpr uint32_t kLevelAssert = 1u << 14;
constexpr uint32_t kTimerMasked = 1u << 16;
constexpr uint32_t kTimerPeriodic = 1u << 17;
constexpr uint32_t kDivideBy16 = 0x3;

constinit volatile uint32_t* registers = nullptr;

uint32_t read(uint32_t offset) {
    return registers[offset / 4];
}
void write(uint32_t offset, uint32_t value) {
    registers[offset / 4] = value;
}

}  // namespace

Status map(uint64_t physical_base) {
    void* mapped = TRY(map_physical(physical_base, 4096, DeviceAccess::ReadWriteUncached));
    registers = static_cast<volatile uint32_t*>(mapped);
    return Status::ok();
}

bool is_mapped() { return registers != nullptr; }

void enable() {
    write(kSpuriousVector, kSoftwareEnable | kVectorSpurious);
}

uint32_t id() {
    return read(kId) >> 24;
}

void end_of_interrupt() {
    write(kEndOfInterrupt, 0);
}

void send(uint32_t hardware_id, Delivery delivery, uint8_t vector, Destination destination) {
    InterruptState state = save_and_disable_interrupts();
    while (read(kCommandLow) & kDeliveryPending) cpu_relax();
    write(kCommandHigh, hardware_id << 24);
    write(kCommandLow, uint32_t(delivery) | uint32_t(destination) | kLevelAssert | vector);
    while (read(kCommandLow) & kDeliveryPending) cpu_relax();
    restore_interrupts(state);
}

void timer_one_shot_masked(uint32_t initial_count) {
    write(kTimerDivide, kDivideBy16);
    write(kTimerVector, kTimerMasked | kVectorTimer);
    write(kTimerInitialCount, initial_count);
}

uint32_t timer_current_count() {
    return read(kTimerCurrentCount);
}

void timer_periodic(uint8_t vector, uint32_t initial_count) {
    write(kTimerDivide, kDivideBy16);
    write(kTimerVector, kTimerPeriodic | vector);
    write(kTimerInitialCount, initial_count);
}

}  // namespace umka::arch::local_apic
