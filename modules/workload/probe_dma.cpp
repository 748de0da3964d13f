// `probe dma`: bus_access.Dma as a driver uses it and as a careless or hostile one would —
// bad lengths and directions, a buffer's bytes (zeroed, below 4 GiB, page-aligned, usable),
// sync inside and outside the buffer, the handle after release, a forged handle, and the
// buffer offered to kernel_services.ModuleMemory (another interface's capability kind).
#include "umka/kabi/bus_access.hpp"
#include "workload.h"

namespace umka::workload {
namespace {

namespace bus = umka::kabi::bus_access;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kBufferBytes = 3 * kPage;
constexpr uint32_t kChurnRounds = 256;
constexpr uint32_t kBufferLimit = 256;  // the nucleus's per-module limit
constexpr bus::DmaDirection kBoth = bus::DmaDirection::ToDevice | bus::DmaDirection::FromDevice;

void print_call(Output& out, const char* call, Status status) {
    out.add("probe: dma: ").add(call).add(" -> ").add(errno_name(status.code())).add("\n");
}

// Every byte zero, then a pattern written and read back through the CPU address.
bool check_bytes(const bus::DmaMapping& mapping, bool* zeroed) {
    auto* bytes = reinterpret_cast<volatile uint8_t*>(mapping.cpu_address);
    *zeroed = true;
    for (uint64_t index = 0; index < mapping.length; ++index) *zeroed &= bytes[index] == 0;
    for (uint64_t index = 0; index < mapping.length; ++index) bytes[index] = uint8_t(index * 7);
    for (uint64_t index = 0; index < mapping.length; ++index) {
        if (bytes[index] != uint8_t(index * 7)) return false;
    }
    return true;
}

}  // namespace

Status probe_dma(Command& command) {
    static constexpr char kPackage[] = "bus_access";
    static constexpr char kInterface[] = "Dma";
    bus::DmaRef dma;
    if (!find_service(command.directory, kPackage, sizeof kPackage - 1, kInterface,
                      sizeof kInterface - 1, 1, &dma)) {
        command.out.add("probe: the nucleus publishes no bus_access.Dma\n");
        return kNoProvider;
    }
    Output& out = command.out;
    bus::DmaBuffer buffer{};
    bus::DmaMapping mapping{};
    print_call(out, "allocate 0 bytes", dma.allocate(0, kBoth, &buffer, &mapping));
    print_call(out, "allocate with no direction",
               dma.allocate(kPage, bus::DmaDirection(0), &buffer, &mapping));
    print_call(out, "allocate with an unknown direction bit",
               dma.allocate(kPage, bus::DmaDirection(0x80), &buffer, &mapping));
    print_call(out, "allocate 1 TiB", dma.allocate(1ull << 40, kBoth, &buffer, &mapping));

    Status allocated = dma.allocate(kBufferBytes, kBoth, &buffer, &mapping);
    print_call(out, "allocate 12288 bytes", allocated);
    if (allocated.is_error()) return Status::ok();
    uint64_t device = mapping.device_address.value;
    bool zeroed = false;
    bool usable = check_bytes(mapping, &zeroed);
    out.add("probe: dma: buffer of ").number(mapping.length).add(" bytes: device address ");
    out.add(device != 0 && device + mapping.length <= (4ull << 30) ? "below 4 GiB" : "ABOVE 4 GiB");
    out.add(device % kPage == 0 ? ", page-aligned" : ", NOT page-aligned");
    out.add(zeroed ? ", zeroed" : ", NOT zeroed");
    out.add(usable ? ", reads back what was written\n" : ", DOES NOT read back\n");
    print_call(out, "sync all to the device", dma.sync(buffer, 0, kBufferBytes, kBoth));
    print_call(out, "sync the last byte from the device",
               dma.sync(buffer, kBufferBytes - 1, 1, bus::DmaDirection::FromDevice));
    print_call(out, "sync one byte past the end",
               dma.sync(buffer, kPage, kBufferBytes - kPage + 1, kBoth));
    print_call(out, "sync at offset 2^64-1", dma.sync(buffer, ~0ull, 2, kBoth));
    print_call(out, "sync with no direction", dma.sync(buffer, 0, 1, bus::DmaDirection(0)));

    static constexpr char kServices[] = "kernel_services";
    static constexpr char kModuleMemory[] = "ModuleMemory";
    umka::kabi::kernel_services::ModuleMemoryRef memory;
    if (find_service(command.directory, kServices, sizeof kServices - 1, kModuleMemory,
                     sizeof kModuleMemory - 1, 1, &memory)) {
        print_call(out, "release through ModuleMemory",
                   memory.release(umka::kabi::kernel_services::MemoryRegion{buffer.value}));
    }
    print_call(out, "release", dma.release(buffer));
    print_call(out, "release again", dma.release(buffer));
    print_call(out, "sync after release", dma.sync(buffer, 0, 1, kBoth));
    print_call(out, "release a forged handle",
               dma.release(bus::DmaBuffer{(uint64_t(9) << 32) | 5}));

    uint32_t failures = 0;
    for (uint32_t round = 0; round < kChurnRounds; ++round) {
        bus::DmaBuffer churn{};
        bus::DmaMapping churn_mapping{};
        if (dma.allocate(16 * kPage, bus::DmaDirection::FromDevice, &churn, &churn_mapping)
                .is_error() ||
            dma.release(churn).is_error()) {
            ++failures;
        }
    }
    out.add("probe: dma: ").number(kChurnRounds).add(" allocate+release of 64 KiB, ");
    out.number(failures).add(" failures\n");

    // The per-module limit: 256 buffers (docs/devices.md); the 257th is refused.
    bus::DmaBuffer held[kBufferLimit + 1] = {};
    uint32_t granted = 0;
    Status last = Status::ok();
    for (uint32_t index = 0; index <= kBufferLimit; ++index) {
        bus::DmaMapping held_mapping{};
        last = dma.allocate(kPage, bus::DmaDirection::ToDevice, &held[index], &held_mapping);
        if (last.is_error()) break;
        ++granted;
    }
    out.add("probe: dma: ").number(granted).add(" buffers held, the next -> ");
    out.add(errno_name(last.code())).add("\n");
    for (uint32_t index = 0; index < granted; ++index) (void)dma.release(held[index]);
    return Status::ok();
}

}  // namespace umka::workload
