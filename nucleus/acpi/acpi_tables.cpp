#include "nucleus/acpi/acpi_tables.h"

namespace umka::acpi {
namespace {

bool signature_is(const char* actual, const char* expected, size_t length) {
    for (size_t index = 0; index < length; ++index) {
        if (actual[index] != expected[index]) return false;
    }
    return true;
}

const TableHeader* map_table(const PhysicalView& memory, uint64_t physical) {
    const TableHeader* header = memory.as<TableHeader>(physical);
    if (header == nullptr || header->length < sizeof(TableHeader)) return nullptr;
    return memory.as<TableHeader>(physical, header->length);
}

struct RootTable {
    const TableHeader* header = nullptr;
    RootTableKind kind = RootTableKind::None;
    uint8_t rsdp_revision = 0;

    size_t entry_count() const {
        size_t entry_size = kind == RootTableKind::Xsdt ? 8 : 4;
        return (header->length - sizeof(TableHeader)) / entry_size;
    }
    uint64_t entry(size_t index) const {
        const uint8_t* entries = reinterpret_cast<const uint8_t*>(header + 1);
        if (kind == RootTableKind::Xsdt) {
            uint64_t value;
            __builtin_memcpy(&value, entries + index * 8, 8);
            return value;
        }
        uint32_t value;
        __builtin_memcpy(&value, entries + index * 4, 4);
        return value;
    }
};

Status open_root(const PhysicalView& memory, uint64_t rsdp_physical, RootTable& root,
                 const char** reason) {
    const Rsdp* rsdp = memory.as<Rsdp>(rsdp_physical, 20);
    if (rsdp == nullptr || !signature_is(rsdp->signature, "RSD PTR ", 8)) {
        *reason = "acpi: no RSDP signature at the given address";
        return Errno::NoDevice;
    }
    if (!checksum_ok(rsdp, 20)) {
        *reason = "acpi: RSDP checksum is wrong";
        return Errno::BadMessage;
    }
    root.rsdp_revision = rsdp->revision;
    uint64_t root_physical = rsdp->rsdt_address;
    root.kind = RootTableKind::Rsdt;
    if (rsdp->revision >= 2) {
        const Rsdp* extended = memory.as<Rsdp>(rsdp_physical, sizeof(Rsdp));
        if (extended != nullptr && extended->xsdt_address != 0 &&
            checksum_ok(extended,
                        extended->length < sizeof(Rsdp) ? sizeof(Rsdp) : extended->length)) {
            root_physical = extended->xsdt_address;
            root.kind = RootTableKind::Xsdt;
        }
    }
    root.header = map_table(memory, root_physical);
    const char* expected = root.kind == RootTableKind::Xsdt ? "XSDT" : "RSDT";
    if (root.header == nullptr || !signature_is(root.header->signature, expected, 4)) {
        *reason = root.kind == RootTableKind::Xsdt ? "acpi: XSDT is missing or unreadable"
                                                   : "acpi: RSDT is missing or unreadable";
        return Errno::NoDevice;
    }
    if (!checksum_ok(root.header, root.header->length)) {
        *reason = "acpi: root table checksum is wrong";
        return Errno::BadMessage;
    }
    return Status::ok();
}

// MADT entry types (ACPI 6.5, table 5.21).
constexpr uint8_t kMadtLocalApic = 0;
constexpr uint8_t kMadtIoApic = 1;
constexpr uint8_t kMadtInterruptOverride = 2;
constexpr uint8_t kMadtLocalX2Apic = 9;
constexpr uint32_t kMadtFlagPcAtCompatible = 1;
constexpr uint32_t kProcessorEnabled = 1;
constexpr uint32_t kProcessorOnlineCapable = 2;

template <typename Visitor>
void walk_madt(const PhysicalView& memory, uint64_t madt_physical, Visitor&& visitor) {
    const TableHeader* madt = map_table(memory, madt_physical);
    if (madt == nullptr) return;
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(madt);
    size_t offset = sizeof(TableHeader) + 8;  // local controller address + flags
    while (offset + 2 <= madt->length) {
        uint8_t type = bytes[offset];
        uint8_t length = bytes[offset + 1];
        if (length < 2 || offset + length > madt->length) break;
        visitor(type, bytes + offset, length);
        offset += length;
    }
}

template <typename T>
T read_field(const uint8_t* bytes, size_t offset) {
    T value;
    __builtin_memcpy(&value, bytes + offset, sizeof(T));
    return value;
}

ProcessorState processor_state(uint32_t flags) {
    if (flags & kProcessorEnabled) return ProcessorState::Enabled;
    if (flags & kProcessorOnlineCapable) return ProcessorState::OnlineCapable;
    return ProcessorState::Disabled;
}

void parse_madt(const PhysicalView& memory, Summary& summary) {
    const TableHeader* madt = map_table(memory, summary.madt_physical);
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(madt);
    summary.local_controller_address = read_field<uint32_t>(bytes, sizeof(TableHeader));
    summary.legacy_pics_present =
        (read_field<uint32_t>(bytes, sizeof(TableHeader) + 4) & kMadtFlagPcAtCompatible) != 0;
    walk_madt(memory, summary.madt_physical,
              [&](uint8_t type, const uint8_t* entry, uint8_t length) {
                  if ((type == kMadtLocalApic && length >= 8) ||
                      (type == kMadtLocalX2Apic && length >= 16)) {
                      uint32_t flags = type == kMadtLocalApic ? read_field<uint32_t>(entry, 4)
                                                              : read_field<uint32_t>(entry, 8);
                      ++summary.processor_count;
                      if (processor_state(flags) == ProcessorState::Enabled)
                          ++summary.enabled_processor_count;
                  } else if (type == kMadtIoApic && length >= 12) {
                      ++summary.io_controller_count;
                  } else if (type == kMadtInterruptOverride && length >= 10) {
                      ++summary.interrupt_override_count;
                  }
              });
}

// FADT offsets (ACPI 6.5, table 5.9).
constexpr size_t kFadtDsdt = 40;
constexpr size_t kFadtPm1aControlBlock = 64;
constexpr size_t kFadtPm1bControlBlock = 68;
constexpr size_t kFadtPmTimerBlock = 76;
constexpr size_t kFadtPmTimerLength = 91;
constexpr size_t kFadtFlags = 112;
constexpr size_t kFadtExtendedDsdt = 140;
constexpr uint32_t kFadtFlagTimer32Bit = 1u << 8;

void parse_fadt(const PhysicalView& memory, Summary& summary, const char** warning) {
    const TableHeader* fadt = map_table(memory, summary.fadt_physical);
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(fadt);
    if (fadt->length < kFadtFlags + 4) {
        if (*warning == nullptr)
            *warning = "acpi: FADT is too short for the power-management blocks";
        return;
    }
    uint64_t dsdt = read_field<uint32_t>(bytes, kFadtDsdt);
    if (fadt->length >= kFadtExtendedDsdt + 8) {
        uint64_t extended = read_field<uint64_t>(bytes, kFadtExtendedDsdt);
        if (extended != 0) dsdt = extended;
    }
    summary.dsdt_physical = dsdt;
    summary.pm1a_control_port =
        static_cast<uint16_t>(read_field<uint32_t>(bytes, kFadtPm1aControlBlock));
    summary.pm1b_control_port =
        static_cast<uint16_t>(read_field<uint32_t>(bytes, kFadtPm1bControlBlock));
    uint32_t timer_port = read_field<uint32_t>(bytes, kFadtPmTimerBlock);
    if (timer_port != 0 && bytes[kFadtPmTimerLength] == 4) {
        summary.pm_timer_port = static_cast<uint16_t>(timer_port);
        summary.pm_timer_width = (read_field<uint32_t>(bytes, kFadtFlags) & kFadtFlagTimer32Bit)
                                     ? PmTimerWidth::Bits32
                                     : PmTimerWidth::Bits24;
    }

    const TableHeader* dsdt_table = dsdt ? map_table(memory, dsdt) : nullptr;
    if (dsdt_table == nullptr || !signature_is(dsdt_table->signature, "DSDT", 4)) {
        if (*warning == nullptr) *warning = "acpi: FADT names no readable DSDT; no ACPI power-off";
        return;
    }
    const uint8_t* aml = reinterpret_cast<const uint8_t*>(dsdt_table + 1);
    if (summary.pm1a_control_port != 0 &&
        find_s5_sleep_types(aml, dsdt_table->length - sizeof(TableHeader), summary.s5_sleep_type_a,
                            summary.s5_sleep_type_b)) {
        summary.power_off = PowerOffMethod::SleepControlPm1;
    } else if (*warning == nullptr) {
        *warning = "acpi: DSDT has no \\_S5 package; no ACPI power-off";
    }
}

// Reads one AML integer element of a package: ZeroOp, OneOp or BytePrefix.
bool read_small_integer(const uint8_t* aml, size_t length, size_t& offset, uint8_t& value) {
    if (offset >= length) return false;
    uint8_t opcode = aml[offset];
    if (opcode == 0x00 || opcode == 0x01) {
        value = opcode;
        offset += 1;
        return true;
    }
    if (opcode == 0x0A && offset + 1 < length) {
        value = aml[offset + 1];
        offset += 2;
        return true;
    }
    return false;
}

}  // namespace

bool checksum_ok(const void* bytes, size_t length) {
    const uint8_t* data = static_cast<const uint8_t*>(bytes);
    uint8_t sum = 0;
    for (size_t index = 0; index < length; ++index) sum = static_cast<uint8_t>(sum + data[index]);
    return sum == 0;
}

bool find_s5_sleep_types(const uint8_t* aml, size_t length, uint8_t& type_a, uint8_t& type_b) {
    for (size_t offset = 1; offset + 4 < length; ++offset) {
        if (!(aml[offset] == '_' && aml[offset + 1] == 'S' && aml[offset + 2] == '5' &&
              aml[offset + 3] == '_')) {
            continue;
        }
        // A NameOp (0x08) precedes the name, optionally with a root prefix '\'.
        bool named = aml[offset - 1] == 0x08 ||
                     (aml[offset - 1] == '\\' && offset >= 2 && aml[offset - 2] == 0x08);
        size_t cursor = offset + 4;
        if (!named || cursor >= length || aml[cursor] != 0x12) continue;  // PackageOp
        ++cursor;
        size_t package_length_bytes = (aml[cursor] >> 6) + 1;
        cursor += package_length_bytes + 1;  // PkgLength, NumElements
        if (read_small_integer(aml, length, cursor, type_a) &&
            read_small_integer(aml, length, cursor, type_b)) {
            return true;
        }
    }
    return false;
}

uint64_t find_table(const PhysicalView& memory, uint64_t rsdp_physical, const char signature[4]) {
    RootTable root;
    const char* reason = nullptr;
    if (open_root(memory, rsdp_physical, root, &reason).is_error()) return 0;
    for (size_t index = 0; index < root.entry_count(); ++index) {
        uint64_t physical = root.entry(index);
        const TableHeader* header = map_table(memory, physical);
        if (header != nullptr && signature_is(header->signature, signature, 4) &&
            checksum_ok(header, header->length)) {
            return physical;
        }
    }
    return 0;
}

Status parse(const PhysicalView& memory, uint64_t rsdp_physical, Summary& summary,
             const char** warning) {
    summary = Summary{};
    *warning = nullptr;
    if (rsdp_physical == 0) {
        *warning = "acpi: firmware gave no RSDP";
        return Errno::NoDevice;
    }
    RootTable root;
    Status status = open_root(memory, rsdp_physical, root, warning);
    if (status.is_error()) return status;
    summary.root_kind = root.kind;
    summary.rsdp_revision = root.rsdp_revision;
    summary.table_count = static_cast<uint32_t>(root.entry_count());

    for (size_t index = 0; index < root.entry_count(); ++index) {
        uint64_t physical = root.entry(index);
        const TableHeader* header = map_table(memory, physical);
        if (header == nullptr) continue;
        if (!checksum_ok(header, header->length)) {
            ++summary.bad_checksums;
            if (*warning == nullptr)
                *warning = "acpi: a table has a wrong checksum and was skipped";
            continue;
        }
        if (signature_is(header->signature, "APIC", 4)) summary.madt_physical = physical;
        if (signature_is(header->signature, "FACP", 4)) summary.fadt_physical = physical;
        if (signature_is(header->signature, "MCFG", 4)) summary.mcfg_physical = physical;
    }

    if (summary.madt_physical != 0) {
        parse_madt(memory, summary);
    } else if (*warning == nullptr) {
        *warning = "acpi: no MADT; only the boot CPU will run";
    }
    if (summary.fadt_physical != 0) {
        parse_fadt(memory, summary, warning);
    } else if (*warning == nullptr) {
        *warning = "acpi: no FADT; no PM timer and no ACPI power-off";
    }
    return Status::ok();
}

void for_each_processor(const PhysicalView& memory, const Summary& summary,
                        void (*visit)(void* context, const Processor& processor), void* context) {
    if (summary.madt_physical == 0) return;
    walk_madt(
        memory, summary.madt_physical, [&](uint8_t type, const uint8_t* entry, uint8_t length) {
            if (type == kMadtLocalApic && length >= 8) {
                visit(context, Processor{entry[2], entry[3],
                                         processor_state(read_field<uint32_t>(entry, 4))});
            } else if (type == kMadtLocalX2Apic && length >= 16) {
                visit(context,
                      Processor{read_field<uint32_t>(entry, 12), read_field<uint32_t>(entry, 4),
                                processor_state(read_field<uint32_t>(entry, 8))});
            }
        });
}

void for_each_io_controller(const PhysicalView& memory, const Summary& summary,
                            void (*visit)(void* context, const IoController& controller),
                            void* context) {
    if (summary.madt_physical == 0) return;
    walk_madt(memory, summary.madt_physical,
              [&](uint8_t type, const uint8_t* entry, uint8_t length) {
                  if (type == kMadtIoApic && length >= 12) {
                      visit(context, IoController{entry[2], read_field<uint32_t>(entry, 4),
                                                  read_field<uint32_t>(entry, 8)});
                  }
              });
}

void for_each_interrupt_override(const PhysicalView& memory, const Summary& summary,
                                 void (*visit)(void* context, const InterruptOverride& entry),
                                 void* context) {
    if (summary.madt_physical == 0) return;
    walk_madt(memory, summary.madt_physical,
              [&](uint8_t type, const uint8_t* entry, uint8_t length) {
                  if (type == kMadtInterruptOverride && length >= 10) {
                      visit(context, InterruptOverride{entry[2], entry[3],
                                                       read_field<uint32_t>(entry, 4),
                                                       read_field<uint16_t>(entry, 8)});
                  }
              });
}

}  // namespace umka::acpi
