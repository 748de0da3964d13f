// After the walk, every function goes to the nucleus's device registry
// (device_registry.Devices), with its first 256 bytes of configuration space: the nucleus
// binds each to the driver module whose boot-manifest line matches it and grants that
// driver the function's memory BARs. A refusal is logged and the rest are still published.
#include "config_path.h"
#include "pci_bus_driver.h"
#include "umka/kabi/device_registry.hpp"
#include "umka/line_text.h"

namespace umka::pci {
namespace {

namespace registry = kabi::device_registry;
namespace services = kabi::kernel_services;

registry::DeviceDescription describe_record(const Record& record, ConfigAccess& access) {
    registry::DeviceDescription device{};
    for (uint32_t index = 0; index < kMaximumBars; ++index) device.bars[index] = record.bars[index];
    device.info = record.info;
    device.interrupt_kind = record.interrupt_kind;
    const kabi::pci_bus::PciAddress& where = record.info.address;
    Address address{where.segment, where.bus, where.device, where.function};
    for (uint16_t offset = 0; offset < sizeof device.config; offset += 4) {
        uint32_t word = access.read32(address, offset);
        for (uint32_t byte = 0; byte < 4; ++byte) {
            device.config[offset + byte] = uint8_t(word >> (8 * byte));
        }
    }
    return device;
}

}  // namespace

void publish_devices(const UmkaModuleBinding* binding) {
    registry::DevicesRef devices;
    if (kabi::bind_required(binding, kDevices, &devices).is_error()) return;
    ConfigPath path(binding);
    if (!path.ready()) return;
    State& state = state_of(binding);
    uint32_t published = 0, bound = 0;
    for (uint32_t index = 0; index < state.function_count; ++index) {
        registry::DeviceDescription device = describe_record(state.functions[index], path.access());
        Status status = devices.publish(&device);
        if (status.is_error()) {
            LineText<120> line;
            line.add("pci: the device registry refused function ")
                .number(index)
                .add(" (errno ")
                .number(uint64_t(status.code()))
                .add(")");
            log_text(binding, services::LogLevel::Warning, line.data(), line.length());
            continue;
        }
        ++published;
    }
    for (uint32_t index = 0;; ++index) {
        registry::DeviceDescription device{};
        if (devices.describe(index, &device).is_error()) break;
        if (device.driver[0] != 0) ++bound;
    }
    LineText<120> line;
    line.add("pci: ").number(published).add(" devices published, ").number(bound).add(" bound");
    log_text(binding, services::LogLevel::Info, line.data(), line.length());
}

}  // namespace umka::pci
