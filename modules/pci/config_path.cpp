#include "config_path.h"

namespace umka::pci {

namespace bus = kabi::bus_access;

const char* mechanism_name(Mechanism mechanism) {
    return mechanism == Mechanism::Ecam ? "ECAM" : "ports 0xcf8";
}

void choose_mechanism(const UmkaModuleBinding* binding) {
    State& state = state_of(binding);
    state.mechanism = uint32_t(Mechanism::LegacyPorts);
    bus::MmioRef mmio;
    if (kabi::bind_required(binding, kMmio, &mmio).is_error()) return;
    bus::MmioWindow window{};
    uint64_t length = 0;
    // ENODEV (no MCFG: pc) or EPERM (no `ecam` on the manifest line): the ports, then.
    if (mmio.map(0, &window, &length).is_error()) return;
    state.ecam_window = window.value;
    state.ecam_length = length;
    state.mechanism = uint32_t(Mechanism::Ecam);
}

namespace {

template <typename Ref>
Ref bound(const UmkaModuleBinding* binding, uint32_t index, bool* ok) {
    Ref ref;
    *ok = kabi::bind_required(binding, index, &ref).is_ok();
    return ref;
}

}  // namespace

ConfigPath::ConfigPath(const UmkaModuleBinding* binding)
    : mechanism_(Mechanism(state_of(binding).mechanism)),
      port_io_(bound<bus::PortIoRef>(binding, kPortIo, &port_io_bound_)),
      mmio_(bound<bus::MmioRef>(binding, kMmio, &mmio_bound_)),
      legacy_(port_io_, bus::PortRange{binding->required[kPortIo].capability},
              state_of(binding).config_lock),
      ecam_(mmio_, bus::MmioWindow{state_of(binding).ecam_window}, state_of(binding).ecam_length) {}

ConfigAccess& ConfigPath::access() {
    if (mechanism_ == Mechanism::Ecam) return ecam_;
    return legacy_;
}

int32_t ConfigPath::first_error() const {
    return mechanism_ == Mechanism::Ecam ? ecam_.first_error() : legacy_.first_error();
}

}  // namespace umka::pci
