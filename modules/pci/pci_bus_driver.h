// What the PCI bus driver module's files share: its manifest order, its state and the
// enumeration into that state. One concept per file: pci_bus_driver.cpp (entry and
// pci_bus.PciBus), pci_command.cpp (the console's `pci`), legacy_config.cpp (the ports).
#pragma once

#include <stdint.h>

#include "enumeration.h"
#include "umka/kabi/bus_access.hpp"
#include "umka/kabi/kernel_services.hpp"
#include "umka/kabi/pci_bus.hpp"
#include "umka/kabi/pci_bus_driver.hpp"
#include "umka/kabi/pci_bus_driver_state.hpp"
#include "umka/module_entry.h"

namespace umka::pci {

using State = kabi::pci_bus_driver::PciState;
using Record = kabi::pci_bus_driver::PciFunctionRecord;
using kabi::Status;

// Manifest order of kabi-idl/modules/pci_bus_driver.kabi.
enum Required : uint32_t { kLog = 0, kPortIo = 1, kMmio = 2, kDevices = 3, kRequiredCount = 4 };
enum Provided : uint32_t { kPciBus = 0, kCommandSet = 1, kProvidedCount = 2 };
inline constexpr uint32_t kStateCount = 1;
inline constexpr uint32_t kRecordCapacity = sizeof(State::functions) / sizeof(Record);

// Record.interrupt_kind: the best interrupt the function offers.
enum class InterruptKind : uint8_t { None = 0, Intx = 1, Msi = 2, Msix = 3 };

inline const UmkaModuleBinding* binding_of(void* context) {
    return kabi::binding_of(context);
}
inline State& state_of(const UmkaModuleBinding* binding) {
    // umka_module_entry refused the binding unless the region is there and large enough.
    return *kabi::module_state<State>(binding);
}

// Chooses the configuration mechanism (config_path.h), walks bus 0 onwards into the
// state's records and marks the state enumerated. EIO (and nothing marked) when an access
// was refused.
Status enumerate_into_state(const UmkaModuleBinding* binding);

// PciBus.set_interrupts on one function (interrupt_mode.cpp).
Status set_interrupt_mode(ConfigAccess& access, Address address, kabi::bus_access::IrqKind kind);
// PciBus.program_msi on one function (interrupt_mode.cpp).
Status program_msi(ConfigAccess& access, Address address, uint64_t message_address,
                   uint32_t message_data);

// Publishes every enumerated function to the nucleus's device registry (logs refusals).
void publish_devices(const UmkaModuleBinding* binding);

// A Log line from module code; lost when no Log is bound (there is nowhere else to say it).
void log_text(const UmkaModuleBinding* binding, kabi::kernel_services::LogLevel level,
              const char* text, uint64_t length);

}  // namespace umka::pci
