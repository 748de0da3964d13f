// ACPI table discovery: RSDP -> XSDT (or RSDT) -> MADT, FADT, DSDT. Pure parsing through a
// PhysicalView; host tests run it on table bytes captured from QEMU (test/data/acpi/).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/boot/physical_view.h"
#include "nucleus/lib/status.h"

namespace umka::acpi {

struct [[gnu::packed]] TableHeader {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
};
static_assert(sizeof(TableHeader) == 36);

struct [[gnu::packed]] Rsdp {
    char signature[8];
    uint8_t checksum;
    char oem_id[6];
    uint8_t revision;
    uint32_t rsdt_address;
    // ACPI 2.0+
    uint32_t length;
    uint64_t xsdt_address;
    uint8_t extended_checksum;
    uint8_t reserved[3];
};
static_assert(sizeof(Rsdp) == 36);

enum class RootTableKind : uint8_t { None, Rsdt, Xsdt };
enum class PowerOffMethod : uint8_t { Unavailable, SleepControlPm1 };
enum class PmTimerWidth : uint8_t { Absent, Bits24, Bits32 };

struct Summary {
    RootTableKind root_kind = RootTableKind::None;
    uint8_t rsdp_revision = 0;
    uint32_t table_count = 0;    // entries in the root table
    uint32_t bad_checksums = 0;  // tables skipped for a wrong checksum

    uint64_t madt_physical = 0;
    uint64_t fadt_physical = 0;
    uint64_t dsdt_physical = 0;
    uint64_t mcfg_physical = 0;  // PCI ECAM regions: acpi/mcfg.h

    // From the MADT.
    uint64_t local_controller_address = 0;
    uint32_t processor_count = 0;  // every processor entry
    uint32_t enabled_processor_count = 0;
    uint32_t io_controller_count = 0;
    uint32_t interrupt_override_count = 0;
    bool legacy_pics_present = false;

    // From the FADT and DSDT.
    PmTimerWidth pm_timer_width = PmTimerWidth::Absent;
    uint16_t pm_timer_port = 0;
    uint16_t pm1a_control_port = 0;
    uint16_t pm1b_control_port = 0;
    PowerOffMethod power_off = PowerOffMethod::Unavailable;
    uint8_t s5_sleep_type_a = 0;
    uint8_t s5_sleep_type_b = 0;
};

enum class ProcessorState : uint8_t { Enabled, OnlineCapable, Disabled };

struct Processor {
    uint32_t processor_uid;
    uint32_t hardware_id;  // the local interrupt controller id (APIC id on x86)
    ProcessorState state;
};

struct IoController {
    uint32_t id;
    uint64_t address;
    uint32_t interrupt_base;
};

// An interrupt source override (MADT type 2): ISA IRQ `source` arrives on global interrupt
// line `line`, with the polarity and trigger `flags` give (MPS INTI flags: bits 1:0
// polarity, 3:2 trigger; 0 in either means the bus's default).
struct InterruptOverride {
    uint8_t bus;
    uint8_t source;
    uint32_t line;
    uint16_t flags;
};

// Parses the tables reachable from the RSDP. A missing or bad table is not fatal: the
// summary says what was found and `*warning` names the first thing that was wrong (or
// stays null). Returns an error only when the RSDP or root table itself is unusable.
Status parse(const PhysicalView& memory, uint64_t rsdp_physical, Summary& summary,
             const char** warning);

// Calls `visit` for each processor entry of the MADT, in table order.
void for_each_processor(const PhysicalView& memory, const Summary& summary,
                        void (*visit)(void* context, const Processor& processor), void* context);
void for_each_io_controller(const PhysicalView& memory, const Summary& summary,
                            void (*visit)(void* context, const IoController& controller),
                            void* context);
void for_each_interrupt_override(const PhysicalView& memory, const Summary& summary,
                                 void (*visit)(void* context, const InterruptOverride& entry),
                                 void* context);

// Finds a table by signature through the root table (0 if absent).
uint64_t find_table(const PhysicalView& memory, uint64_t rsdp_physical, const char signature[4]);

// Extracts the \_S5 sleep types from DSDT AML bytes. Returns false if absent.
bool find_s5_sleep_types(const uint8_t* aml, size_t length, uint8_t& type_a, uint8_t& type_b);

bool checksum_ok(const void* bytes, size_t length);

}  // namespace umka::acpi
