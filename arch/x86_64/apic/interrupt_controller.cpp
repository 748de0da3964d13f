// Boot-time interrupt setup, clock calibration and inter-processor signals on x86-64.
#include <arch/cpu.h>
#include <arch/interrupts.h>

#include "arch/x86_64/apic/local_apic.h"
#include "arch/x86_64/cpu/traps.h"
#include "arch/x86_64/cpu/x86.h"
#include "nucleus/time/clock.h"

namespace umka::arch {
namespace {

constexpr uint64_t kPmTimerHz = 3579545;
constexpr uint64_t kPitHz = 1193182;
// 2 ms is 7159 PM-timer ticks (or 2386 PIT ticks): a one-tick error is under 0.05%, and
// the window is the largest single cost of bring-up, so it is kept short.
constexpr uint32_t kCalibrationMilliseconds = 2;

void mask_legacy_pics() {
    x86::outb(0x21, 0xFF);
    x86::outb(0xA1, 0xFF);
}

// Waits `milliseconds` on the ACPI PM timer; handles the 24-bit wrap.
void wait_pm_timer(const acpi::Summary& acpi, uint32_t milliseconds) {
    uint32_t mask = acpi.pm_timer_width == acpi::PmTimerWidth::Bits32 ? 0xFFFFFFFFu : 0xFFFFFFu;
    uint64_t target = kPmTimerHz * milliseconds / 1000;
    uint32_t start = x86::inl(acpi.pm_timer_port) & mask;
    for (;;) {
        uint32_t now = x86::inl(acpi.pm_timer_port) & mask;
        if (((now - start) & mask) >= target) return;
        cpu_relax();
    }
}

// Waits on PIT channel 2 in one-shot mode, gated through port 0x61 (no interrupt needed).
void wait_interval_timer(uint32_t milliseconds) {
    uint16_t count = uint16_t(kPitHz * milliseconds / 1000);
    uint8_t gate = x86::inb(0x61);
    x86::outb(0x61, uint8_t((gate & ~0x02) | 0x01));  // gate on, speaker off
    x86::outb(0x43, 0xB0);                            // channel 2, lo/hi, mode 0
    x86::outb(0x42, uint8_t(count));
    x86::outb(0x42, uint8_t(count >> 8));
    // Restart counting by toggling the gate.
    gate = x86::inb(0x61);
    x86::outb(0x61, uint8_t(gate & ~0x01));
    x86::outb(0x61, uint8_t(gate | 0x01));
    while ((x86::inb(0x61) & 0x20) == 0) cpu_relax();
}

}  // namespace

const char* reference_clock_name(ReferenceClock clock) {
    return clock == ReferenceClock::AcpiPmTimer ? "acpi-pm-timer" : "pit";
}

Status initialize_interrupt_controller(const acpi::Summary& acpi) {
    mask_legacy_pics();
    uint64_t base = acpi.local_controller_address;
    if (base == 0) base = x86::read_msr(x86::kMsrApicBase) & ~0xFFFull;
    TRY(local_apic::map(base));
    local_apic::enable();
    return Status::ok();
}

void initialize_secondary_interrupt_controller() { local_apic::enable(); }

uint32_t current_hardware_cpu_id() { return local_apic::id(); }

Result<ClockCalibration> calibrate_clocks(const acpi::Summary& acpi) {
    ClockCalibration calibration{};
    calibration.reference = acpi.pm_timer_width != acpi::PmTimerWidth::Absent
                                ? ReferenceClock::AcpiPmTimer
                                : ReferenceClock::LegacyIntervalTimer;
    InterruptState state = save_and_disable_interrupts();
    local_apic::timer_one_shot_masked(0xFFFFFFFFu);
    uint64_t cycles_before = x86::rdtsc();
    if (calibration.reference == ReferenceClock::AcpiPmTimer) {
        wait_pm_timer(acpi, kCalibrationMilliseconds);
    } else {
        wait_interval_timer(kCalibrationMilliseconds);
    }
    uint64_t cycles_after = x86::rdtsc();
    uint32_t remaining = local_apic::timer_current_count();
    restore_interrupts(state);

    calibration.cycle_counter_hz = (cycles_after - cycles_before) * (1000 / kCalibrationMilliseconds);
    calibration.timer_hz = uint64_t(0xFFFFFFFFu - remaining) * (1000 / kCalibrationMilliseconds);
    if (calibration.cycle_counter_hz == 0 || calibration.timer_hz == 0) return Errno::IoError;
    return calibration;
}

void start_periodic_timer(const ClockCalibration& calibration, uint32_t ticks_per_second) {
    local_apic::timer_periodic(kVectorTimer, uint32_t(calibration.timer_hz / ticks_per_second));
}

void send_rendezvous_interrupt(uint32_t hardware_id) {
    local_apic::send(hardware_id, local_apic::Delivery::Fixed, kVectorRendezvous);
}

void stop_other_cpus() {
    local_apic::send(0, local_apic::Delivery::Nmi, 0, local_apic::Destination::AllButSelf);
}

void delay_microseconds(uint64_t microseconds) {
    uint64_t start = read_cycle_counter();
    uint64_t cycles = clock::microseconds_to_cycles(microseconds);
    while (read_cycle_counter() - start < cycles) cpu_relax();
}

void power_off(const acpi::Summary& acpi) {
    if (acpi.power_off == acpi::PowerOffMethod::SleepControlPm1) {
        constexpr uint16_t kSleepEnable = 1u << 13;
        x86::outw(acpi.pm1a_control_port, uint16_t((acpi.s5_sleep_type_a << 10) | kSleepEnable));
        if (acpi.pm1b_control_port != 0) {
            x86::outw(acpi.pm1b_control_port, uint16_t((acpi.s5_sleep_type_b << 10) | kSleepEnable));
        }
    }
    halt_forever();
}

}  // namespace umka::arch
