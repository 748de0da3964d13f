// A test driver for QEMU's `edu` device (docs/specs/edu.rst in QEMU): BAR 0 is 1 MiB of
// registers, 32-bit accesses below 0x80 — 0x00 identification (0xRRrr00ed), 0x24 interrupt
// status, 0x60 raise (the value is ORed into the status and an interrupt sent), 0x64
// acknowledge (clears those bits). The device has one plain MSI vector (no per-vector mask).
//
// At start it takes its bound device (the registry binds 1234:11e8 by its IDL's
// `matches`), maps BAR 0, claims the function, attaches an Msi binding and has its bus driver
// program the message the nucleus gives. The console's `edu irq N` raises N interrupts one
// at a time and waits for each to be handled; `edu storm MS` raises them as fast as it can
// for MS milliseconds, for the nucleus's storm limit (docs/devices.md).
#include "umka/kabi/edu_driver.hpp"

#include "umka/command_output.h"
#include "umka/command_words.h"
#include "umka/kabi/bus_access.hpp"
#include "umka/kabi/console_command.hpp"
#include "umka/kabi/device_registry.hpp"
#include "umka/kabi/edu_driver_manifest.hpp"
#include "umka/kabi/edu_driver_state.hpp"
#include "umka/kabi/kernel_services.hpp"
#include "umka/kabi/pci_bus.hpp"
#include "umka/line_text.h"
#include "umka/module_entry.h"
#include "umka/number_text.h"

namespace {

namespace bus = umka::kabi::bus_access;
namespace pcibus = umka::kabi::pci_bus;
namespace registry = umka::kabi::device_registry;
namespace services = umka::kabi::kernel_services;
using umka::kabi::Status;
using State = umka::kabi::edu_driver::EduState;

// Manifest order of kabi-idl/edu_driver.kabi.
enum Required : uint32_t {
    kLog = 0,
    kClock = 1,
    kThreads = 2,
    kMmio = 3,
    kIrq = 4,
    kPciBus = 5,
    kDevices = 6,
    kRequiredCount = 7
};
enum Provided : uint32_t { kCommandSet = 0, kIrqHandler = 1, kProvidedCount = 2 };

constexpr uint64_t kIdentification = 0x00;
constexpr uint64_t kInterruptStatus = 0x24;
constexpr uint64_t kInterruptRaise = 0x60;
constexpr uint64_t kInterruptAcknowledge = 0x64;
constexpr uint64_t kMaximumRaises = 10000;
constexpr uint64_t kMaximumStormMs = 5000;
constexpr uint64_t kHandledTimeoutNs = 1'000'000'000;
constexpr uint32_t kMaximumWords = 8;

State& state_of(const UmkaModuleBinding* binding) {
    return *umka::kabi::module_state<State>(binding);
}

void log_line(const UmkaModuleBinding* binding, services::LogLevel level, const char* text,
              uint64_t length) {
    services::LogRef log;
    if (umka::kabi::bind_required(binding, kLog, &log).is_ok()) log.write(level, text, length);
}

Status read_register(const UmkaModuleBinding* binding, uint64_t offset, uint32_t* value) {
    bus::MmioRef mmio;
    if (Status bound = umka::kabi::bind_required(binding, kMmio, &mmio); bound.is_error()) {
        return bound;
    }
    uint64_t wide = 0;
    Status status = mmio.read(bus::MmioWindow{state_of(binding).window}, offset,
                              bus::AccessWidth::Dword, &wide);
    *value = uint32_t(wide);
    return status;
}

Status write_register(const UmkaModuleBinding* binding, uint64_t offset, uint32_t value) {
    bus::MmioRef mmio;
    if (Status bound = umka::kabi::bind_required(binding, kMmio, &mmio); bound.is_error()) {
        return bound;
    }
    return mmio.write(bus::MmioWindow{state_of(binding).window}, offset, bus::AccessWidth::Dword,
                      value);
}

// The function at `address`, claimed.
Status claim(const UmkaModuleBinding* binding, const pcibus::PciAddress& address,
             pcibus::PciFunction* function) {
    pcibus::PciBusRef pci;
    if (Status bound = umka::kabi::bind_required(binding, kPciBus, &pci); bound.is_error()) {
        return bound;
    }
    for (uint32_t index = 0; index < pci.function_count(); ++index) {
        pcibus::PciDeviceInfo info{};
        if (pci.describe(index, &info).is_error()) continue;
        if (info.address.bus == address.bus && info.address.device == address.device &&
            info.address.function == address.function) {
            return pci.claim(index, function);
        }
    }
    return UMKA_KABI_ENODEV;
}

template <uint64_t N>
int32_t give_up(UmkaModuleBinding* binding, const char (&reason)[N], Status status) {
    umka::LineText<160> line;
    line.add("edu: ").add(reason).add(" (errno ").number(uint64_t(status.code())).add(")");
    log_line(binding, services::LogLevel::Error, line.data(), line.length());
    return UMKA_KABI_OK;  // the module stays loaded; `edu` then says the device is not ready
}

int32_t start_edu(UmkaModuleBinding* binding) {
    State& state = state_of(binding);
    // A restart (or a live swap) that carried the state over carries the set-up device: the
    // window, the claim, the wait queue and the interrupt binding are this instance's now.
    if (binding->states[0].origin == UMKA_STATE_ORIGIN_CARRIED &&
        __atomic_load_n(&state.ready, __ATOMIC_ACQUIRE) != 0) {
        return UMKA_KABI_OK;
    }
    registry::DevicesRef devices;
    bus::MmioRef mmio;
    bus::IrqRef irq;
    pcibus::PciBusRef pci;
    services::ThreadsRef threads;
    if (umka::kabi::bind_required(binding, kDevices, &devices).is_error() ||
        umka::kabi::bind_required(binding, kMmio, &mmio).is_error() ||
        umka::kabi::bind_required(binding, kIrq, &irq).is_error() ||
        umka::kabi::bind_required(binding, kPciBus, &pci).is_error() ||
        umka::kabi::bind_required(binding, kThreads, &threads).is_error()) {
        return give_up(binding, "a required service is not bound", UMKA_KABI_ENODEV);
    }
    registry::DeviceDescription device{};
    if (Status found = devices.bound(0, &device); found.is_error()) {
        return give_up(binding, "no edu device is bound to this driver", found);
    }
    bus::MmioWindow window{};
    uint64_t length = 0;
    if (Status mapped = mmio.map(uint8_t(device.first_window), &window, &length);
        mapped.is_error()) {
        return give_up(binding, "BAR 0 was refused", mapped);
    }
    state.window = window.value;
    uint32_t identification = 0;
    if (read_register(binding, kIdentification, &identification).is_error() ||
        (identification & 0xFFu) != 0xEDu) {
        return give_up(binding, "BAR 0 does not identify as edu", UMKA_KABI_ENODEV);
    }
    pcibus::PciFunction function{};
    if (Status claimed = claim(binding, device.info.address, &function); claimed.is_error()) {
        return give_up(binding, "the bus driver refused the claim", claimed);
    }
    // An MSI is a memory write by the device: without bus mastering it is never sent.
    if (Status enabled = pci.enable(function, 1); enabled.is_error()) {
        return give_up(binding, "the bus driver could not enable the function", enabled);
    }
    services::WaitQueue queue{};
    if (Status created = threads.queue_create(&queue); created.is_error()) {
        return give_up(binding, "no wait queue", created);
    }
    state.wait_queue = queue.value;
    bus::IrqBinding line{};
    if (Status attached = irq.attach(bus::IrqKind::Msi, 0, 0, &line); attached.is_error()) {
        return give_up(binding, "the nucleus gave no MSI vector", attached);
    }
    state.irq_binding = line.value;
    uint64_t address = 0;
    uint32_t data = 0;
    if (Status message = irq.message(line, &address, &data); message.is_error()) {
        return give_up(binding, "no MSI message for the binding", message);
    }
    if (Status programmed = pci.program_msi(function, address, data); programmed.is_error()) {
        return give_up(binding, "the bus driver could not program MSI", programmed);
    }
    __atomic_store_n(&state.ready, 1u, __ATOMIC_RELEASE);
    umka::LineText<160> text;
    text.add("edu: version ")
        .number(identification >> 24)
        .add(".")
        .number((identification >> 16) & 0xFF)
        .add(", MSI address ")
        .hex(address)
        .add(" data ")
        .hex(data);
    log_line(binding, services::LogLevel::Info, text.data(), text.length());
    return UMKA_KABI_OK;
}

// Acknowledges whatever the status register holds; the command thread waits on `handled`.
struct IrqHandler {
    static bus::IrqOutcome handle_interrupt(void* context, uint64_t) {
        const UmkaModuleBinding* binding = umka::kabi::binding_of(context);
        State& state = state_of(binding);
        uint32_t status = 0;
        if (read_register(binding, kInterruptStatus, &status).is_error() || status == 0) {
            __atomic_add_fetch(&state.empty, 1u, __ATOMIC_RELAXED);
            return bus::IrqOutcome::NotMine;
        }
        (void)write_register(binding, kInterruptAcknowledge, status);
        __atomic_add_fetch(&state.handled, 1u, __ATOMIC_RELEASE);
        services::ThreadsRef threads;
        uint32_t woken = 0;
        if (umka::kabi::bind_required(binding, kThreads, &threads).is_ok()) {
            (void)threads.queue_wake(services::WaitQueue{state.wait_queue}, 1, &woken);
        }
        return bus::IrqOutcome::Handled;
    }
};
static_assert(__is_empty(IrqHandler), "module code keeps no state of its own");

using Output = umka::CommandOutput;

Status raise_one_at_a_time(const UmkaModuleBinding* binding, uint64_t count, Output& out) {
    State& state = state_of(binding);
    services::ThreadsRef threads;
    services::ClockRef clock;
    if (umka::kabi::bind_required(binding, kThreads, &threads).is_error() ||
        umka::kabi::bind_required(binding, kClock, &clock).is_error()) {
        return UMKA_KABI_ENODEV;
    }
    uint64_t handled_here = 0;
    uint64_t start = clock.now_ns();
    for (uint64_t raised = 0; raised < count; ++raised) {
        uint32_t before = __atomic_load_n(&state.handled, __ATOMIC_ACQUIRE);
        if (Status wrote = write_register(binding, kInterruptRaise, 1); wrote.is_error()) {
            return wrote;
        }
        uint64_t deadline = clock.now_ns() + kHandledTimeoutNs;
        while (__atomic_load_n(&state.handled, __ATOMIC_ACQUIRE) == before &&
               clock.now_ns() < deadline) {
            (void)threads.queue_wait(services::WaitQueue{state.wait_queue},
                                     reinterpret_cast<uint64_t>(&state.handled), before,
                                     deadline - clock.now_ns());
        }
        if (__atomic_load_n(&state.handled, __ATOMIC_ACQUIRE) != before) ++handled_here;
    }
    uint64_t microseconds = (clock.now_ns() - start) / 1000;
    umka::LineText<160> line;
    line.add("edu: ").number(count).add(" interrupts raised one at a time, ");
    line.number(handled_here).add(" handled by MSI, ").number(microseconds / (count ? count : 1));
    line.add(" us each; ").number(__atomic_load_n(&state.empty, __ATOMIC_ACQUIRE));
    out.line(line.add(" found nothing so far"));
    return handled_here == count ? Status::ok() : Status(UMKA_KABI_ETIMEDOUT);
}

Status storm(const UmkaModuleBinding* binding, uint64_t milliseconds, Output& out) {
    State& state = state_of(binding);
    services::ClockRef clock;
    services::ThreadsRef threads;
    if (umka::kabi::bind_required(binding, kClock, &clock).is_error() ||
        umka::kabi::bind_required(binding, kThreads, &threads).is_error()) {
        return UMKA_KABI_ENODEV;
    }
    uint32_t handled_before = __atomic_load_n(&state.handled, __ATOMIC_ACQUIRE);
    uint64_t end = clock.now_ns() + milliseconds * 1'000'000;
    uint64_t raised = 0;
    while (clock.now_ns() < end) {
        if (Status wrote = write_register(binding, kInterruptRaise, 1); wrote.is_error()) {
            return wrote;
        }
        ++raised;
    }
    uint32_t handled = __atomic_load_n(&state.handled, __ATOMIC_ACQUIRE) - handled_before;
    umka::LineText<160> line;
    line.add("edu: storm: ").number(raised).add(" interrupts raised in ").number(milliseconds);
    line.add(" ms, ").number(handled).add(" handled; ");
    line.number(__atomic_load_n(&state.empty, __ATOMIC_ACQUIRE));
    out.line(line.add(" found nothing so far"));
    return Status::ok();
}

struct Commands {
    static uint8_t precedence(void*) { return 128; }
    static Status describe(void*, void* output, uint64_t capacity, uint64_t* written) {
        static constexpr char kText[] =
            "edu         edu irq N: raise N interrupts one at a time (N <= 10000) | edu storm MS: "
            "raise them for MS ms (<= 5000)\n";
        uint64_t length = sizeof kText - 1 < capacity ? sizeof kText - 1 : capacity;
        __builtin_memcpy(output, kText, length);
        *written = length;
        return length == sizeof kText - 1 ? Status::ok() : Status(UMKA_KABI_ENOSPC);
    }
    static Status execute(void* context, const void* arguments, uint64_t arguments_length,
                          uint32_t count, void* output, uint64_t capacity, uint64_t* written) {
        *written = 0;
        const char* words[kMaximumWords];
        if (!umka::split_command_words(arguments, arguments_length, count, words, kMaximumWords)) {
            return UMKA_KABI_EINVAL;
        }
        if (!umka::same_word(words[0], "edu")) return UMKA_KABI_ENOENT;
        const UmkaModuleBinding* binding = umka::kabi::binding_of(context);
        Output out(static_cast<char*>(output), capacity);
        Status status = UMKA_KABI_EINVAL;
        umka::ParsedNumber number{0, umka::NumberError::Empty};
        if (__atomic_load_n(&state_of(binding).ready, __ATOMIC_ACQUIRE) == 0) {
            umka::LineText<64> line;
            out.line(line.add("edu: no edu device is ready (see the log)"));
            status = UMKA_KABI_ENODEV;
        } else if (count == 3 && umka::same_word(words[1], "irq") &&
                   (number = umka::parse_unsigned(words[2], kMaximumRaises)).ok() &&
                   number.value != 0) {
            status = raise_one_at_a_time(binding, number.value, out);
        } else if (count == 3 && umka::same_word(words[1], "storm") &&
                   (number = umka::parse_unsigned(words[2], kMaximumStormMs)).ok() &&
                   number.value != 0) {
            status = storm(binding, number.value, out);
        } else {
            umka::LineText<64> line;
            out.line(line.add("usage: edu irq N (1..10000) | edu storm MS (1..5000)"));
        }
        *written = out.length();
        return status.is_ok() && out.truncated() ? Status(UMKA_KABI_ENOSPC) : status;
    }
};
static_assert(__is_empty(Commands), "module code keeps no state of its own");

constexpr umka::kabi::console_command::CommandSetVtable command_set_vtable =
    umka::kabi::console_command::make_command_set_vtable<Commands>();
constexpr bus::IrqHandlerVtable irq_handler_vtable = bus::make_irq_handler_vtable<IrqHandler>();

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_EDU_DRIVER();

// Touches no device: start does, once the bus driver has published it.
UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, kRequiredCount, kProvidedCount, 1)) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "binding of another manifest", 27);
    }
    if (umka::kabi::module_state<State>(binding) == nullptr) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "no EduState region", 18);
    }
    if (int32_t status = umka_module_set_start(binding, start_edu); status != UMKA_KABI_OK) {
        return status;
    }
    if (Status status = umka_module_provide(binding, kCommandSet, &command_set_vtable, binding);
        status.is_error()) {
        return status.code();
    }
    return umka_module_provide(binding, kIrqHandler, &irq_handler_vtable, binding);
}
