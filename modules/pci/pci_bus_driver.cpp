// The PCI bus driver module (kabi-idl/modules/pci_bus_driver.kabi): enumerates the bus
// once, when the nucleus starts it, into PciState (nucleus memory, so a swap of this code
// keeps the table and the claims), and serves the table as pci_bus.PciBus. The console
// command `pci` is pci_command.cpp.
//
// A PciFunction handle is the record's index + 1 in its low 32 bits and the record's
// claim generation in the high 32: a handle from before a release is stale (EINVAL).
// Claims are exclusive; a direct call carries no caller identity, so whoever holds the
// handle is the owner.
#include "pci_bus_driver.h"

#include "config_path.h"
#include "umka/command_words.h"
#include "umka/kabi/console_command.hpp"
#include "umka/kabi/pci_bus_driver_manifest.hpp"

namespace pcibus = umka::kabi::pci_bus;
namespace bus = umka::kabi::bus_access;
using umka::kabi::Status;
using umka::pci::Record;
using umka::pci::State;

namespace umka::pci {
Status pci_command(const UmkaModuleBinding* binding, const char* const* words, uint32_t count,
                   char* output, uint64_t capacity, uint64_t* written);
uint8_t pci_command_precedence();
Status describe_pci_command(char* output, uint64_t capacity, uint64_t* written);
}  // namespace umka::pci

namespace {

constexpr uint32_t kMaximumWords = 32;

State& state_of(void* context) {
    return umka::pci::state_of(umka::pci::binding_of(context));
}

uint32_t published_count(const State& state) {
    if (__atomic_load_n(&state.enumerated, __ATOMIC_ACQUIRE) == 0) return 0;
    return state.function_count;
}

// The record a live handle names, or nullptr.
Record* record_of(State& state, pcibus::PciFunction function) {
    uint64_t index = (function.value & 0xFFFFFFFFu);
    uint32_t generation = uint32_t(function.value >> 32);
    if (index == 0 || index > published_count(state)) return nullptr;
    Record& record = state.functions[index - 1];
    if (__atomic_load_n(&record.claimed, __ATOMIC_ACQUIRE) == 0 ||
        __atomic_load_n(&record.claim_generation, __ATOMIC_RELAXED) != generation) {
        return nullptr;
    }
    return &record;
}

struct PciBus {
    static uint32_t function_count(void* context) { return published_count(state_of(context)); }

    static Status describe(void* context, uint32_t index, pcibus::PciDeviceInfo* info) {
        State& state = state_of(context);
        if (info == nullptr) return UMKA_KABI_EINVAL;
        if (index >= published_count(state)) return UMKA_KABI_ERANGE;
        *info = state.functions[index].info;
        return Status::ok();
    }

    static Status claim(void* context, uint32_t index, pcibus::PciFunction* function) {
        State& state = state_of(context);
        if (function == nullptr) return UMKA_KABI_EINVAL;
        if (index >= published_count(state)) return UMKA_KABI_ERANGE;
        Record& record = state.functions[index];
        uint8_t free = 0;
        if (!__atomic_compare_exchange_n(&record.claimed, &free, uint8_t(1), false,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            return UMKA_KABI_EBUSY;
        }
        uint32_t generation = __atomic_add_fetch(&record.claim_generation, 1u, __ATOMIC_RELEASE);
        function->value = uint64_t(generation) << 32 | (uint64_t(index) + 1);
        return Status::ok();
    }

    static Status release(void* context, pcibus::PciFunction function) {
        Record* record = record_of(state_of(context), function);
        if (record == nullptr) return UMKA_KABI_EINVAL;
        // Only the release that moves the generation on clears the claim: of two racing
        // releases of one handle, the second fails instead of dropping a newer claim.
        uint32_t generation = uint32_t(function.value >> 32);
        if (!__atomic_compare_exchange_n(&record->claim_generation, &generation, generation + 1,
                                         false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            return UMKA_KABI_EINVAL;
        }
        __atomic_store_n(&record->claimed, uint8_t(0), __ATOMIC_RELEASE);
        return Status::ok();
    }

    static Status bar(void* context, pcibus::PciFunction function, uint8_t bar_index,
                      pcibus::BarInfo* info) {
        Record* record = record_of(state_of(context), function);
        if (record == nullptr || info == nullptr) return UMKA_KABI_EINVAL;
        if (bar_index >= umka::pci::kMaximumBars) return UMKA_KABI_ERANGE;
        *info = record->bars[bar_index];
        return Status::ok();
    }

    // Decoding on for the kinds of BAR the function has, bus mastering as asked.
    static Status enable(void* context, pcibus::PciFunction function, uint8_t bus_master) {
        return change_config(context, function, [&](umka::pci::ConfigAccess& access,
                                                    umka::pci::Address address,
                                                    const Record& record) {
            uint32_t command = access.read16(address, umka::pci::kCommand);
            for (const pcibus::BarInfo& bar : record.bars) {
                if (bar.kind == pcibus::BarKind::Io) command |= umka::pci::kCommandIo;
                if (bar.kind == pcibus::BarKind::Memory32 ||
                    bar.kind == pcibus::BarKind::Memory64) {
                    command |= umka::pci::kCommandMemory;
                }
            }
            constexpr uint32_t kCommandBusMaster = 1u << 2;
            if (bus_master != 0) command |= kCommandBusMaster;
            // The status half is written as zeros: its bits are write-one-to-clear.
            access.write32(address, umka::pci::kCommand, command);
            return Status::ok();
        });
    }

    static Status set_interrupts(void* context, pcibus::PciFunction function, bus::IrqKind kind) {
        return change_config(context, function,
                             [&](umka::pci::ConfigAccess& access, umka::pci::Address address,
                                 const Record&) {
                                 return umka::pci::set_interrupt_mode(access, address, kind);
                             });
    }

    static Status program_msi(void* context, pcibus::PciFunction function, uint64_t address,
                              uint32_t data) {
        return change_config(context, function,
                             [&](umka::pci::ConfigAccess& access, umka::pci::Address where,
                                 const Record&) {
                                 return umka::pci::program_msi(access, where, address, data);
                             });
    }

private:
    // Runs `change(access, address, record)` on a claimed function's configuration space:
    // EINVAL for a stale handle, EIO when the configuration path is missing or an access
    // was refused, else what `change` answered.
    template <typename Change>
    static Status change_config(void* context, pcibus::PciFunction function, Change&& change) {
        Record* record = record_of(state_of(context), function);
        if (record == nullptr) return UMKA_KABI_EINVAL;
        umka::pci::ConfigPath path(umka::pci::binding_of(context));
        if (!path.ready()) return UMKA_KABI_EIO;
        const pcibus::PciAddress& where = record->info.address;
        Status status = change(path.access(),
                               umka::pci::Address{where.segment, where.bus, where.device,
                                                  where.function},
                               *record);
        if (status.is_error()) return status;
        return path.first_error() == 0 ? Status::ok() : Status(UMKA_KABI_EIO);
    }
};
static_assert(__is_empty(PciBus), "module code keeps no state of its own");

struct Commands {
    static uint8_t precedence(void*) { return umka::pci::pci_command_precedence(); }
    static Status describe(void*, void* output, uint64_t capacity, uint64_t* written) {
        return umka::pci::describe_pci_command(static_cast<char*>(output), capacity, written);
    }
    static Status execute(void* context, const void* arguments, uint64_t arguments_length,
                          uint32_t count, void* output, uint64_t capacity, uint64_t* written) {
        *written = 0;
        const char* words[kMaximumWords];
        if (!umka::split_command_words(arguments, arguments_length, count, words, kMaximumWords)) {
            return UMKA_KABI_EINVAL;
        }
        return umka::pci::pci_command(umka::pci::binding_of(context), words, count,
                                      static_cast<char*>(output), capacity, written);
    }
};
static_assert(__is_empty(Commands), "module code keeps no state of its own");

constexpr pcibus::PciBusVtable pci_bus_vtable = pcibus::make_pci_bus_vtable<PciBus>();
constexpr umka::kabi::console_command::CommandSetVtable command_set_vtable =
    umka::kabi::console_command::make_command_set_vtable<Commands>();

// Once committed (module_entry.h), so a dry-run swap never touches the bus. A carried
// state that was enumerated keeps its table and claims (and the registry its devices).
int32_t start_pci(UmkaModuleBinding* binding) {
    if (__atomic_load_n(&umka::pci::state_of(binding).enumerated, __ATOMIC_ACQUIRE) != 0) {
        return UMKA_KABI_OK;
    }
    Status status = umka::pci::enumerate_into_state(binding);
    if (status.is_error()) {
        static constexpr char kReason[] =
            "PCI configuration access refused (ECAM window or ports 0xcf8+8; see the log)";
        return umka_module_refuse(binding, status.code(), kReason, sizeof kReason - 1);
    }
    umka::pci::publish_devices(binding);
    return UMKA_KABI_OK;
}

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_PCI_BUS_DRIVER();

// Touches no port: the bus is walked by start_pci, once the binding is committed.
UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, umka::pci::kRequiredCount, umka::pci::kProvidedCount,
                                     umka::pci::kStateCount)) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "binding of another manifest", 27);
    }
    if (umka::kabi::module_state<State>(binding) == nullptr) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "no PciState region", 18);
    }
    if (int32_t status = umka_module_set_start(binding, start_pci); status != UMKA_KABI_OK) {
        return status;
    }
    if (Status status = umka_module_provide(binding, umka::pci::kPciBus, &pci_bus_vtable, binding);
        status.is_error()) {
        return status.code();
    }
    return umka_module_provide(binding, umka::pci::kCommandSet, &command_set_vtable, binding);
}
