#include "nucleus/acpi/mcfg.h"

namespace umka::acpi {
namespace {

constexpr size_t kMcfgReserved = 8;  // after the header, before the entries
constexpr size_t kEntryBytes = 16;

struct [[gnu::packed]] McfgEntry {
    uint64_t base;
    uint16_t segment;
    uint8_t first_bus;
    uint8_t last_bus;
    uint32_t reserved;
};
static_assert(sizeof(McfgEntry) == kEntryBytes);

const char* entry_problem(const McfgEntry& entry, const EcamRegions& regions) {
    if (entry.base == 0) return "acpi: MCFG entry with base 0 refused";
    // Each bus's 1 MiB must be aligned (the spec asks for more; 1 MiB is what mapping needs).
    if ((entry.base & ((1ull << 20) - 1)) != 0) return "acpi: MCFG entry base not 1 MiB aligned";
    if (entry.first_bus > entry.last_bus) return "acpi: MCFG entry with first bus past last bus";
    if (entry.base + ((uint64_t(entry.last_bus) + 1) << 20) < entry.base) {
        return "acpi: MCFG entry wraps the address space";
    }
    for (uint32_t index = 0; index < regions.count; ++index) {
        const EcamRegion& other = regions.regions[index];
        if (other.segment == entry.segment && entry.first_bus <= other.last_bus &&
            other.first_bus <= entry.last_bus) {
            return "acpi: MCFG entries overlap on a segment's buses";
        }
    }
    if (regions.count == kMaximumEcamRegions) return "acpi: MCFG has more than 8 entries";
    return nullptr;
}

}  // namespace

Status read_mcfg(const PhysicalView& memory, const Summary& summary, EcamRegions& regions,
                 const char** warning) {
    *warning = nullptr;
    regions = EcamRegions{};
    if (summary.mcfg_physical == 0) return Status::ok();
    const TableHeader* header = memory.as<TableHeader>(summary.mcfg_physical);
    if (header == nullptr || header->length < sizeof(TableHeader) + kMcfgReserved) {
        *warning = "acpi: MCFG shorter than its header";
        return Errno::BadMessage;
    }
    const uint8_t* bytes = memory.as<uint8_t>(summary.mcfg_physical, header->length);
    if (bytes == nullptr) {
        *warning = "acpi: MCFG not readable";
        return Errno::BadMessage;
    }
    size_t entries = (header->length - sizeof(TableHeader) - kMcfgReserved) / kEntryBytes;
    for (size_t index = 0; index < entries; ++index) {
        McfgEntry entry;
        __builtin_memcpy(&entry, bytes + sizeof(TableHeader) + kMcfgReserved + index * kEntryBytes,
                         kEntryBytes);
        const char* problem = entry_problem(entry, regions);
        if (problem != nullptr) {
            ++regions.refused;
            if (*warning == nullptr) *warning = problem;
            continue;
        }
        regions.regions[regions.count++] =
            EcamRegion{entry.base, entry.segment, entry.first_bus, entry.last_bus};
    }
    return Status::ok();
}

}  // namespace umka::acpi
