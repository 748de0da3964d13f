// The enumeration into PciState: each Function becomes a PciFunctionRecord (what drivers
// and `pci` need; the full virtio capability list is read again by the driver that claims
// the function, through its own config access).
#include "config_path.h"
#include "pci_bus_driver.h"
#include "umka/line_text.h"

namespace umka::pci {
namespace {

namespace bus = kabi::bus_access;
namespace pcibus = kabi::pci_bus;
namespace services = kabi::kernel_services;

InterruptKind best_interrupt(const Function& function) {
    if (function.msix.offset != 0) return InterruptKind::Msix;
    if (function.msi.offset != 0) return InterruptKind::Msi;
    if (function.interrupt_pin != 0) return InterruptKind::Intx;
    return InterruptKind::None;
}

void fill_record(const Function& function, Record& record) {
    record = Record{};
    for (uint8_t index = 0; index < kMaximumBars; ++index) {
        const Bar& bar = function.bars[index];
        record.bars[index].base = bar.base;
        record.bars[index].length = bar.length;
        record.bars[index].kind = pcibus::BarKind(uint8_t(bar.kind));
        record.bars[index].prefetchable = bar.prefetchable ? 1 : 0;
    }
    pcibus::PciDeviceInfo& info = record.info;
    info.address.segment = function.address.segment;
    info.address.bus = function.address.bus;
    info.address.device = function.address.device;
    info.address.function = function.address.function;
    info.vendor_id = function.vendor_id;
    info.device_id = function.device_id;
    info.subsystem_vendor_id = function.subsystem_vendor_id;
    info.subsystem_id = function.subsystem_id;
    info.class_code = function.class_code;
    info.subclass = function.subclass;
    info.prog_if = function.prog_if;
    info.revision = function.revision;
    info.interrupt_pin = function.interrupt_pin;
    record.header_layout = function.header_layout;
    record.interrupt_kind = uint8_t(best_interrupt(function));
    record.problem = uint8_t(function.problem);
    record.problem_detail = function.problem_detail;
    record.virtio_capabilities = function.virtio_count;
    record.msi_vectors = function.msi.vectors;
    record.msix_vectors = function.msix.offset != 0 ? function.msix.table_size : 0;
    record.interrupt_line = function.interrupt_line;
}

class StateSink final : public FunctionSink {
public:
    explicit StateSink(State& state) : state_(state) {}
    bool accept(const Function& function) override {
        if (count_ == kRecordCapacity) return false;
        fill_record(function, state_.functions[count_++]);
        return true;
    }

private:
    State& state_;
    uint32_t count_ = 0;
};

}  // namespace

void log_text(const UmkaModuleBinding* binding, services::LogLevel level, const char* text,
              uint64_t length) {
    services::LogRef log;
    if (kabi::bind_required(binding, kLog, &log).is_ok()) log.write(level, text, length);
}

Status enumerate_into_state(const UmkaModuleBinding* binding) {
    State& state = state_of(binding);
    choose_mechanism(binding);
    ConfigPath path(binding);
    if (!path.ready()) return UMKA_KABI_EIO;
    StateSink sink(state);
    BusRange range{};
    Enumeration result = enumerate(path.access(), range, sink);
    LineText<160> line;
    if (path.first_error() != 0) {
        line.add("pci: ")
            .add(mechanism_name(path.mechanism()))
            .add(" refused an access (errno ")
            .number(uint64_t(path.first_error()))
            .add(")");
        if (path.mechanism() == Mechanism::LegacyPorts) line.add(": is it granted ports=0xcf8+8?");
        log_text(binding, services::LogLevel::Error, line.data(), line.length());
        return UMKA_KABI_EIO;
    }
    state.function_count = result.function_count;
    state.dropped = result.dropped;
    state.buses_scanned = result.buses_scanned;
    state.bridges_refused = result.bridges_refused;
    __atomic_store_n(&state.enumerated, 1u, __ATOMIC_RELEASE);
    line.add("pci: ")
        .number(result.function_count)
        .add(" functions on ")
        .number(result.buses_scanned)
        .add(" buses through ")
        .add(mechanism_name(path.mechanism()));
    if (result.dropped != 0) line.add(", ").number(result.dropped).add(" past the table dropped");
    log_text(binding, services::LogLevel::Info, line.data(), line.length());
    return Status::ok();
}

}  // namespace umka::pci
