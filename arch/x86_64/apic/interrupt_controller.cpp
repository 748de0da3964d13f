// Boot-time interrupt setup, clock calibration and inter-processor signals on x86-64.
#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/recovery.h>

#include "arch/x86_64/apic/io_apic.h"
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

uint32_t pm_timer_mask(const acpi::Summary& acpi) {
    return acpi.pm_timer_width == acpi::PmTimerWidth::Bits32 ? 0xFFFFFFFFu : 0xFFFFFFu;
}

// One reading of the cycle counter and the local timer, bracketed by two reads of the PM
// timer. A vCPU can be descheduled, and a port read can cost microseconds (an exit to
// the hypervisor), so the best of several brackets is kept and its width is known.
struct ClockSample {
    uint64_t cycles;
    uint32_t timer_count;
    uint32_t reference;  // middle of the bracket
    uint32_t width;      // bracket width in PM-timer ticks
};

constexpr int kSampleAttempts = 8;
// The window is stretched until the two brackets are at most 1/500 of it (0.2% error).
constexpr uint32_t kWindowPerBracketTick = 500;
constexpr uint64_t kMaximumWindowMilliseconds = 50;

ClockSample take_sample(const acpi::Summary& acpi) {
    uint32_t mask = pm_timer_mask(acpi);
    ClockSample best{0, 0, 0, ~0u};
    for (int attempt = 0; attempt < kSampleAttempts; ++attempt) {
        uint32_t before = x86::inl(acpi.pm_timer_port) & mask;
        uint64_t cycles = x86::rdtsc();
        uint32_t timer_count = local_apic::timer_current_count();
        uint32_t after = x86::inl(acpi.pm_timer_port) & mask;
        uint32_t width = (after - before) & mask;
        if (width < best.width)
            best = ClockSample{cycles, timer_count, (before + width / 2) & mask, width};
    }
    return best;
}

Result<ClockCalibration> calibrate_against_pm_timer(const acpi::Summary& acpi) {
    uint32_t mask = pm_timer_mask(acpi);
    ClockSample start = take_sample(acpi);
    uint64_t window = kPmTimerHz * kCalibrationMilliseconds / 1000;
    uint64_t stretched = uint64_t(start.width + 1) * 2 * kWindowPerBracketTick;
    if (stretched > window) window = stretched;
    if (window > kPmTimerHz * kMaximumWindowMilliseconds / 1000) {
        window = kPmTimerHz * kMaximumWindowMilliseconds / 1000;
    }
    while ((((x86::inl(acpi.pm_timer_port) & mask) - start.reference) & mask) < window) cpu_relax();
    ClockSample end = take_sample(acpi);
    // The elapsed reference time comes from the samples themselves, so a pause anywhere
    // outside the brackets lengthens the window without skewing the ratio.
    uint64_t elapsed = (end.reference - start.reference) & mask;
    if (elapsed == 0) return Errno::IoError;
    ClockCalibration calibration{};
    calibration.reference = ReferenceClock::AcpiPmTimer;
    calibration.cycle_counter_hz = (end.cycles - start.cycles) * kPmTimerHz / elapsed;
    calibration.timer_hz = uint64_t(start.timer_count - end.timer_count) * kPmTimerHz / elapsed;
    return calibration;
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
    io_apic::initialize(acpi);
    return Status::ok();
}

void initialize_secondary_interrupt_controller() {
    local_apic::enable();
}

uint32_t current_hardware_cpu_id() {
    return local_apic::id();
}

Result<ClockCalibration> calibrate_clocks(const acpi::Summary& acpi) {
    InterruptState state = save_and_disable_interrupts();
    local_apic::timer_one_shot_masked(0xFFFFFFFFu);
    Result<ClockCalibration> result = Errno::IoError;
    if (acpi.pm_timer_width != acpi::PmTimerWidth::Absent) {
        result = calibrate_against_pm_timer(acpi);
    } else {
        // Without ACPI: PIT channel 2, unbracketed (the PIT cannot be read cheaply).
        uint64_t cycles_before = x86::rdtsc();
        wait_interval_timer(kCalibrationMilliseconds);
        uint64_t cycles_after = x86::rdtsc();
        uint32_t remaining = local_apic::timer_current_count();
        ClockCalibration calibration{};
        calibration.reference = ReferenceClock::LegacyIntervalTimer;
        calibration.cycle_counter_hz =
            (cycles_after - cycles_before) * (1000 / kCalibrationMilliseconds);
        calibration.timer_hz =
            uint64_t(0xFFFFFFFFu - remaining) * (1000 / kCalibrationMilliseconds);
        result = calibration;
    }
    restore_interrupts(state);
    if (result.is_ok() && (result.value().cycle_counter_hz == 0 || result.value().timer_hz == 0)) {
        return Errno::IoError;
    }
    return result;
}

namespace {
// The boot CPU's timer period, reused by every secondary CPU (same bus clock).
constinit uint32_t timer_initial_count = 0;
}  // namespace

void start_periodic_timer(const ClockCalibration& calibration, uint32_t ticks_per_second) {
    timer_initial_count = uint32_t(calibration.timer_hz / ticks_per_second);
    local_apic::timer_periodic(kVectorTimer, timer_initial_count);
}

void start_secondary_periodic_timer() {
    if (timer_initial_count != 0) local_apic::timer_periodic(kVectorTimer, timer_initial_count);
}

void send_rendezvous_interrupt(uint32_t hardware_id) {
    local_apic::send(hardware_id, local_apic::Delivery::Fixed, kVectorRendezvous);
}

MsiMessage msi_message(uint32_t hardware_id, uint8_t vector) {
    // Intel SDM vol. 3, 11.11: destination id in address bits 19:12, physical mode, no
    // redirection hint; data: the vector, fixed delivery, edge trigger.
    return MsiMessage{0xFEE00000ull | (uint64_t(hardware_id & 0xFF) << 12), vector};
}

void stop_other_cpus() {
    // Before the local APIC is mapped only the boot CPU runs: there is no one to stop.
    if (!local_apic::is_mapped()) return;
    local_apic::send(0, local_apic::Delivery::Nmi, 0, local_apic::Destination::AllButSelf);
}

void interrupt_with_nmi(uint32_t hardware_id) {
    local_apic::send(hardware_id, local_apic::Delivery::Nmi, 0);
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
            x86::outw(acpi.pm1b_control_port,
                      uint16_t((acpi.s5_sleep_type_b << 10) | kSleepEnable));
        }
    }
    halt_forever();
}

}  // namespace umka::arch
