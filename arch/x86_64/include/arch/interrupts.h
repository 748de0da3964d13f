// Interrupt controller, clocks, inter-processor signalling and power, as generic code
// sees them. x86-64 implements these with the local APIC, the ACPI PM timer (or the PIT)
// and ACPI sleep control.
#pragma once

#include <stdint.h>

#include "nucleus/acpi/acpi_tables.h"
#include "nucleus/lib/status.h"

namespace umka {
struct Cpu;
}

namespace umka::arch {

// Boot CPU: sets up the local interrupt controller and masks legacy controllers.
Status initialize_interrupt_controller(const acpi::Summary& acpi);
// Secondary CPUs: enables their local controller.
void initialize_secondary_interrupt_controller();
uint32_t current_hardware_cpu_id();

enum class ReferenceClock : uint8_t { AcpiPmTimer, LegacyIntervalTimer };
const char* reference_clock_name(ReferenceClock clock);

struct ClockCalibration {
    uint64_t cycle_counter_hz;  // time-stamp counter
    uint64_t timer_hz;          // local timer input after its divider
    ReferenceClock reference;
};
Result<ClockCalibration> calibrate_clocks(const acpi::Summary& acpi);
void start_periodic_timer(const ClockCalibration& calibration, uint32_t ticks_per_second);
// On a secondary CPU: the same period as the boot CPU's timer.
void start_secondary_periodic_timer();

void send_rendezvous_interrupt(uint32_t hardware_id);

// Vectors for modules' device interrupts (MSI-X, I/O APIC lines): the same range on every
// CPU, a vector number naming a different binding on each. The trap dispatch acknowledges them and calls
// interrupts::on_device_vector (nucleus/interrupts/device_interrupts.h).
inline constexpr uint8_t kFirstDeviceVector = 64;
inline constexpr uint8_t kDeviceVectorCount = 64;

// The message a PCI function writes to raise `vector` on the CPU with local interrupt
// controller id `hardware_id` (x86-64: address 0xFEE00000 | id << 12, edge, fixed).
struct MsiMessage {
    uint64_t address;
    uint32_t data;
};
MsiMessage msi_message(uint32_t hardware_id, uint8_t vector);

// Interrupt lines (global system interrupts: on x86-64 the I/O APICs' inputs, found in the
// MADT). A routed line is left masked.
enum class LinePolarity : uint8_t { ActiveHigh, ActiveLow };
enum class LineTrigger : uint8_t { Edge, Level };
// ENODEV: no controller has the line.
Status route_interrupt_line(uint32_t line, uint8_t vector, uint32_t hardware_id,
                            LinePolarity polarity, LineTrigger trigger);
void set_interrupt_line_masked(uint32_t line, bool masked);
// Stops every other CPU (used on fatal errors); does not return to them.
void stop_other_cpus();

// Starts a secondary CPU at its nucleus entry; the CPU then calls
// secondary_cpu_main(cpu). Returns once the start-up signals were sent.
Status start_secondary_cpu(Cpu& cpu);

// Spins for roughly `microseconds` using the calibrated cycle counter.
void delay_microseconds(uint64_t microseconds);

[[noreturn]] void power_off(const acpi::Summary& acpi);

}  // namespace umka::arch
