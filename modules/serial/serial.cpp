// The 16550 UART driver module (kabi-idl/modules/serial_console.kabi; built a second time
// as serial_console-v2.umod from kabi-idl/versions/serial_console.kabi, see
// serial_versions.h): provides
// char_device.CharDevice ("ttyS0") and bus_access.IrqHandler; requires kernel_services.Log,
// bus_access.PortIo and bus_access.Irq.
//
// Every register access goes through PortIo with the PortRange the nucleus granted: the
// capability of this module's PortIo binding (binding->required[kPortIo].capability).
// Offsets are relative to the granted range's base (0x3F8 for COM1), so the same ELF runs
// against the host's 16550 model. Like every module it keeps nothing in globals: the
// binding is the context of both interfaces, and what the driver remembers (configured,
// open mode, counters, the receive ring filled by handle_interrupt) is SerialState, nucleus
// memory that survives a swap of this code.
#include <stddef.h>
#include <stdint.h>

#include "serial_versions.h"
#include "umka/kabi/bus_access.hpp"
#include "umka/kabi/char_device.hpp"
#include "umka/kabi/kernel_services.hpp"
#include "umka/kabi/serial_console_manifest.hpp"
#include "umka/kabi/serial_console_state.hpp"
#include "umka/module_entry.h"

namespace bus = umka::kabi::bus_access;
namespace chardev = umka::kabi::char_device;
namespace services = umka::kabi::kernel_services;
namespace serial = umka::kabi::serial_console;
using umka::kabi::Status;

namespace {

// Manifest order of serial_console.kabi.
enum Required : uint32_t { kLog = 0, kPortIo = 1, kIrq = 2, kRequiredCount = 3 };
enum Provided : uint32_t { kCharDevice = 0, kIrqHandler = 1, kProvidedCount = 2 };
constexpr uint32_t kStateCount = 1;

// 16550 registers, as offsets from the base of the granted port range.
enum class Register : uint16_t {
    Data = 0,             // RBR (read) / THR (write); divisor latch low while LCR.DLAB
    InterruptEnable = 1,  // IER; divisor latch high while LCR.DLAB
    FifoControl = 2,      // FCR (write); IIR when read
    LineControl = 3,      // LCR
    ModemControl = 4,     // MCR
    LineStatus = 5,       // LSR
    ModemStatus = 6,      // MSR
    Scratch = 7,          // SCR
};
constexpr Register kDivisorLow = Register::Data;
constexpr Register kDivisorHigh = Register::InterruptEnable;

constexpr uint8_t kLineControlDivisorLatch = 0x80;
constexpr uint8_t kLineControl8N1 = 0x03;  // 8 data bits, no parity, 1 stop bit
// 1.8432 MHz / 16 / 115200 = 1.
constexpr uint16_t kDivisor115200 = 1;
// Enable FIFOs, clear both, receive trigger at 14 bytes.
constexpr uint8_t kFifoControlEnableAndClear = 0xC7;
// DTR and RTS asserted (the other end may use flow control); OUT2, which gates the UART's
// interrupt line on PCs, set so that routing the IRQ later needs only IER.
constexpr uint8_t kModemControlReady = 0x0B;
// Interrupts off (IER 0) while programming; then, when the nucleus routes the line
// (bus_access.Irq, Legacy: the boot manifest's irq=4), IER.RDA: receive data and timeouts
// interrupt, handle_interrupt drains the FIFO into the ring. Without the line the UART is polled.
constexpr uint8_t kInterruptsOff = 0x00;
constexpr uint8_t kInterruptReceiveData = 0x01;

// SerialState.configured.
enum class Configured : uint8_t { No = 0, Polled = 1, Interrupts = 2 };
static_assert(uint8_t(Configured::Interrupts) == umka::serial_driver::kLastConfigured);

constexpr uint8_t kLineStatusDataReady = 0x01;
constexpr uint8_t kLineStatusTransmitEmpty = 0x20;     // THRE: FIFO (or THR) empty
constexpr uint8_t kLineStatusReceiveFifoError = 0x80;  // parity/framing/break in the FIFO

// THRE in FIFO mode means the whole 16-byte transmit FIFO is empty, so one status read
// buys 16 bytes: a sixteenth of the port reads, each of which is a VM exit under KVM.
constexpr uint64_t kTransmitFifoDepth = 16;
// How long write() waits for THRE: this many status reads, kPausesPerPoll `pause`s apart
// (about 0.1-0.3 s on KVM or real hardware, where a 16-byte FIFO drains in 1.4 ms at
// 115200 baud). Past it the UART is taken as stuck: EIO.
constexpr uint32_t kTransmitPollLimit = 65536;
// A blocking read polls: with no interrupt routed there is nothing to sleep on. Between
// polls it spins kPausesPerPoll `pause`s so the port is read (a VM exit) at a modest rate
// and a hyper-thread sibling keeps going. After kBlockingPollLimit empty polls it returns
// EINTR and the caller asks again. A ring provider runs each request with interrupts off
// (so a live swap's pause falls between requests), so this bounds how long a read holds
// them off: 256 polls of 64 pauses are a few hundred microseconds at most, and no thread
// stays inside this module's code for long, so a swap finds the old code quiescent soon.
constexpr uint32_t kPausesPerPoll = 64;
constexpr uint32_t kBlockingPollLimit = 256;

constexpr uint32_t kReceiveCapacity = sizeof(serial::SerialState::receive_buffer);
static_assert(kReceiveCapacity == 256 && (kReceiveCapacity & (kReceiveCapacity - 1)) == 0,
              "receive_head/tail are free-running counters taken modulo a power of two");

// SerialState.opened: zero while closed ("nonzero while the device is open"), and which
// kind of open it is, so read() knows whether to wait.
enum class OpenState : uint8_t { Closed = 0, Blocking = 1, NonBlocking = 2 };
static_assert(uint8_t(OpenState::NonBlocking) == umka::serial_driver::kLastOpenState);

constexpr char kDeviceName[] = "ttyS0";
constexpr uint16_t kTtySerialMajor = 4;  // Linux: ttyS<n> is major 4, minor 64 + n
constexpr uint16_t kTtyS0Minor = 64;

void cpu_relax() {
    for (uint32_t spin = 0; spin < kPausesPerPoll; ++spin) __builtin_ia32_pause();
}

const UmkaModuleBinding* binding_of(void* context) {
    return umka::kabi::binding_of(context);
}

serial::SerialState& state_of(void* context) {
    // umka_module_entry refused the binding unless the region is there and large enough.
    return *umka::kabi::module_state<serial::SerialState>(binding_of(context));
}

OpenState open_state(const serial::SerialState& state) {
    return static_cast<OpenState>(__atomic_load_n(&state.opened, __ATOMIC_RELAXED));
}

// Logs one fixed line through the Log the module requires; a missing Log loses the line
// (there is nowhere else to say it).
void log_line(void* context, services::LogLevel level, const char* text, uint64_t length) {
    services::LogRef log;
    if (umka::kabi::bind_required(binding_of(context), kLog, &log).is_ok()) {
        log.write(level, text, length);
    }
}
template <uint64_t N>
void log_line(void* context, services::LogLevel level, const char (&text)[N]) {
    log_line(context, level, text, N - 1);
}

// The UART behind the binding: PortIo bound for this operation (never cached across
// calls, so a swapped PortIo provider is seen at once) and the granted range.
class Uart {
public:
    Status bind(void* context) {
        const UmkaModuleBinding* binding = binding_of(context);
        Status bound = umka::kabi::bind_required(binding, kPortIo, &port_io_);
        if (bound.is_error()) return bound;
        range_ = bus::PortRange{binding->required[kPortIo].capability};
        return Status::ok();
    }
    Status read(Register reg, uint8_t* value) const {
        uint32_t wide = 0;
        Status status =
            port_io_.read(range_, static_cast<uint16_t>(reg), bus::AccessWidth::Byte, &wide);
        if (status.is_ok()) *value = static_cast<uint8_t>(wide);
        return status;
    }
    Status write(Register reg, uint8_t value) const {
        return port_io_.write(range_, static_cast<uint16_t>(reg), bus::AccessWidth::Byte, value);
    }

private:
    bus::PortIoRef port_io_;
    bus::PortRange range_{};
};

// Probes for a 16550 (the scratch register keeps what is written; a missing UART reads as
// 0xFF) and programs 115200 8N1 with FIFOs. ENODEV when there is no UART; a PortIo error
// (EINVAL: bad PortRange, ERANGE: offset outside the grant) as it came.
Status configure(const Uart& uart) {
    constexpr uint8_t kScratchPatterns[] = {0x5A, 0xA5};
    for (uint8_t pattern : kScratchPatterns) {
        if (Status status = uart.write(Register::Scratch, pattern); status.is_error()) {
            return status;
        }
        uint8_t seen = 0;
        if (Status status = uart.read(Register::Scratch, &seen); status.is_error()) return status;
        if (seen != pattern) return UMKA_KABI_ENODEV;
    }
    struct Step {
        Register reg;
        uint8_t value;
    };
    const Step steps[] = {
        {Register::InterruptEnable, kInterruptsOff},
        {Register::LineControl, kLineControlDivisorLatch},
        {kDivisorLow, uint8_t(kDivisor115200 & 0xFF)},
        {kDivisorHigh, uint8_t(kDivisor115200 >> 8)},
        {Register::LineControl, kLineControl8N1},
        {Register::FifoControl, kFifoControlEnableAndClear},
        {Register::ModemControl, kModemControlReady},
    };
    for (const Step& step : steps) {
        if (Status status = uart.write(step.reg, step.value); status.is_error()) return status;
    }
    return Status::ok();
}

// Polls LSR until THRE (the transmit FIFO is empty): *empty tells whether it came. Once
// only when NonBlocking; at most kTransmitPollLimit times otherwise.
Status wait_for_transmitter(const Uart& uart, OpenState mode, bool* empty) {
    *empty = false;
    for (uint32_t poll = 0; poll < kTransmitPollLimit; ++poll) {
        uint8_t status = 0;
        if (Status result = uart.read(Register::LineStatus, &status); result.is_error()) {
            return result;
        }
        if ((status & kLineStatusTransmitEmpty) != 0) {
            *empty = true;
            return Status::ok();
        }
        if (mode == OpenState::NonBlocking) return Status::ok();
        cpu_relax();
    }
    return Status::ok();
}

// --- the receive ring (SerialState.receive_*) -------------------------------------------
// Single producer (handle_interrupt) and single consumer (read): the producer publishes `tail`
// with a release store after the byte, the consumer `head` after taking it, so the two
// may run on different CPUs. Counters run freely; tail - head is the fill.

uint32_t ring_fill(const serial::SerialState& state) {
    uint32_t head = __atomic_load_n(&state.receive_head, __ATOMIC_ACQUIRE);
    uint32_t tail = __atomic_load_n(&state.receive_tail, __ATOMIC_ACQUIRE);
    return tail - head;
}

uint64_t ring_take(serial::SerialState& state, uint8_t* out, uint64_t capacity) {
    uint32_t head = __atomic_load_n(&state.receive_head, __ATOMIC_RELAXED);
    uint32_t tail = __atomic_load_n(&state.receive_tail, __ATOMIC_ACQUIRE);
    uint64_t taken = 0;
    while (head != tail && taken < capacity) {
        out[taken++] = state.receive_buffer[head % kReceiveCapacity];
        ++head;
    }
    __atomic_store_n(&state.receive_head, head, __ATOMIC_RELEASE);
    return taken;
}

// Moves bytes from the UART's receive FIFO into `out` while data is ready and there is
// room. Returns the PortIo status; *moved counts what arrived before any error.
Status fifo_take(const Uart& uart, uint8_t* out, uint64_t capacity, uint64_t* moved) {
    *moved = 0;
    while (*moved < capacity) {
        uint8_t status = 0;
        if (Status result = uart.read(Register::LineStatus, &status); result.is_error()) {
            return result;
        }
        if ((status & kLineStatusDataReady) == 0) return Status::ok();
        if (Status result = uart.read(Register::Data, &out[*moved]); result.is_error()) {
            return result;
        }
        ++*moved;
    }
    return Status::ok();
}

// Asks the nucleus for the UART's line and turns the receive interrupt on. Polled when it
// has none to give (no `irq=` on the manifest line, no Irq bound): the log says so.
Configured route_receive_interrupt(void* context, const Uart& uart) {
    bus::IrqRef irq;
    bus::IrqBinding line{};
    if (umka::kabi::bind_required(binding_of(context), kIrq, &irq).is_error() ||
        irq.attach(bus::IrqKind::Legacy, 0, 0, &line).is_error()) {
        log_line(context, services::LogLevel::Info,
                 "ttyS0: no interrupt line granted: the receive FIFO is polled");
        return Configured::Polled;
    }
    if (uart.write(Register::InterruptEnable, kInterruptReceiveData).is_error()) {
        (void)irq.detach(line);
        return Configured::Polled;
    }
    log_line(context, services::LogLevel::Info, "ttyS0: receive interrupt on");
    return Configured::Interrupts;
}

// With the receive interrupt on only handle_interrupt takes bytes from the FIFO (one producer for
// the ring, so none overtakes another). If the FIFO holds data nothing will interrupt for
// — the ring was full when the handler ran, and an edge is not repeated — toggling IER.RDA
// makes the UART raise its line again.
void rearm_receive_interrupt(const Uart& uart) {
    uint8_t status = 0;
    if (uart.read(Register::LineStatus, &status).is_error()) return;
    if ((status & kLineStatusDataReady) == 0) return;
    (void)uart.write(Register::InterruptEnable, kInterruptsOff);
    (void)uart.write(Register::InterruptEnable, kInterruptReceiveData);
}

// --- char_device.CharDevice ---------------------------------------------------------------

struct SerialCharDevice {
    static Status info(void*, chardev::CharDeviceInfo* info) {
        if (info == nullptr) return UMKA_KABI_EINVAL;
        *info = chardev::CharDeviceInfo{};
        __builtin_memcpy(info->name, kDeviceName, sizeof(kDeviceName) - 1);
        info->major = kTtySerialMajor;
        info->minor = kTtyS0Minor;
        return Status::ok();
    }

    // Any number of opens; the latest mode wins (no reference count: the console is the
    // only opener today, and it opens again after a swap of itself). The UART is
    // programmed on the first open only, and never again while SerialState says so, so a
    // swap of this driver does not disturb a line in use.
    static Status open(void* context, chardev::OpenMode mode) {
        serial::SerialState& state = state_of(context);
        if (state.configured == 0) {
            Uart uart;
            if (uart.bind(context).is_error()) {
                log_line(context, services::LogLevel::Error,
                         "ttyS0: no bus_access.PortIo bound: no way to reach the UART");
                return UMKA_KABI_ENODEV;
            }
            Status status = configure(uart);
            if (status.is_error()) {
                if (status.code() == UMKA_KABI_ENODEV) {
                    log_line(context, services::LogLevel::Error,
                             "ttyS0: no 16550 UART in the granted port range (scratch register "
                             "does not hold what was written)");
                } else {
                    log_line(context, services::LogLevel::Error,
                             "ttyS0: programming the UART failed: PortIo refused an access");
                }
                return status;
            }
            state.configured = uint8_t(route_receive_interrupt(context, uart));
        }
        bool non_blocking = umka::kabi::char_device::any(mode & chardev::OpenMode::NonBlocking);
        __atomic_store_n(
            &state.opened,
            static_cast<uint8_t>(non_blocking ? OpenState::NonBlocking : OpenState::Blocking),
            __ATOMIC_RELAXED);
        return Status::ok();
    }

    static Status close(void* context) {
        serial::SerialState& state = state_of(context);
        if (open_state(state) == OpenState::Closed) return UMKA_KABI_EBADF;
        __atomic_store_n(&state.opened, static_cast<uint8_t>(OpenState::Closed), __ATOMIC_RELAXED);
        return Status::ok();
    }

    // Bytes handle_interrupt buffered come first (they arrived first), then, when the UART is
    // polled, whatever the FIFO holds, up to `length`. Nothing available: EAGAIN when opened
    // NonBlocking, otherwise poll until a byte arrives (see kPausesPerPoll). EBADF while closed. As
    // for write(): bytes taken are always reported as success (a short read); an error is returned
    // by the call that took nothing, so no byte is lost to a caller that ignores `transferred` on
    // error.
    static Status read(void* context, void* buffer, uint64_t length, uint64_t* transferred) {
        if (transferred == nullptr || (buffer == nullptr && length != 0)) return UMKA_KABI_EINVAL;
        *transferred = 0;
        serial::SerialState& state = state_of(context);
        OpenState mode = open_state(state);
        if (mode == OpenState::Closed) return UMKA_KABI_EBADF;
        if (length == 0) return Status::ok();
        Uart uart;
        if (Status status = uart.bind(context); status.is_error()) return UMKA_KABI_EIO;

        auto* out = static_cast<uint8_t*>(buffer);
        bool interrupts = state.configured == uint8_t(Configured::Interrupts);
        for (uint32_t poll = 0;; ++poll) {
            uint64_t total = ring_take(state, out, length);
            uint64_t moved = 0;
            Status status = Status::ok();
            if (!interrupts) {
                status = fifo_take(uart, out + total, length - total, &moved);
            } else if (total == 0 && poll % 16 == 15) {
                rearm_receive_interrupt(uart);
            }
            umka::serial_driver::count_received(state, moved);
            total += moved;
            state.bytes_read += total;
            *transferred = total;
            if (total != 0) return Status::ok();
            if (status.is_error()) return status;
            if (mode == OpenState::NonBlocking) return UMKA_KABI_EAGAIN;
            if (poll + 1 == kBlockingPollLimit) return UMKA_KABI_EINTR;
            cpu_relax();
        }
    }

    // Raw bytes, no '\n' -> "\r\n" translation (the console sends CR LF itself, and a
    // binary protocol over the line must arrive unchanged). Waits for THRE, then fills the
    // 16-byte FIFO. Bytes sent are reported as success (a short write); the error (EAGAIN
    // when NonBlocking and the FIFO is busy, EIO when the transmitter is stuck, a PortIo
    // error) comes from the call that sent nothing.
    static Status write(void* context, const void* data, uint64_t length, uint64_t* transferred) {
        if (transferred == nullptr || (data == nullptr && length != 0)) return UMKA_KABI_EINVAL;
        *transferred = 0;
        serial::SerialState& state = state_of(context);
        OpenState mode = open_state(state);
        if (mode == OpenState::Closed) return UMKA_KABI_EBADF;
        Uart uart;
        if (Status status = uart.bind(context); status.is_error()) return UMKA_KABI_EIO;

        const auto* bytes = static_cast<const uint8_t*>(data);
        uint64_t sent = 0;
        Status result = Status::ok();
        while (sent < length) {
            bool empty = false;
            result = wait_for_transmitter(uart, mode, &empty);
            if (result.is_error()) break;
            if (!empty) {
                if (mode == OpenState::NonBlocking) {
                    result = UMKA_KABI_EAGAIN;
                } else {
                    log_line(context, services::LogLevel::Error,
                             "ttyS0: transmitter stuck (LSR.THRE never set): write fails with EIO");
                    result = UMKA_KABI_EIO;
                }
                break;
            }
            uint64_t burst =
                length - sent < kTransmitFifoDepth ? length - sent : kTransmitFifoDepth;
            for (uint64_t index = 0; index < burst && result.is_ok(); ++index) {
                result = uart.write(Register::Data, bytes[sent]);
                if (result.is_ok()) ++sent;
            }
            if (result.is_error()) break;
        }
        state.bytes_written += sent;
        *transferred = sent;
        return sent != 0 ? Status::ok() : result;
    }

    // Line settings are fixed at 115200 8N1; there is no termios (TCGETS/TCSETS) yet, so
    // every command is ENOTTY, as Linux answers an ioctl a device does not know, except
    // TIOCGICOUNT in version 2 (serial_versions.h).
    static Status control(void* context, uint32_t command, void* argument, uint64_t length) {
        if (command != umka::serial_driver::kTiocGetInterruptCounts) return UMKA_KABI_ENOTTY;
        return umka::serial_driver::interrupt_counts(state_of(context), argument, length);
    }

    // Readable: buffered bytes or LSR.DR; Writable: LSR.THRE; Error: a parity, framing or
    // break condition in the receive FIFO (LSR bit 7). Works whether or not the device is
    // open: it only looks.
    static Status poll(void* context, chardev::PollEvents interest, chardev::PollEvents* ready) {
        if (ready == nullptr) return UMKA_KABI_EINVAL;
        *ready = chardev::PollEvents{};
        Uart uart;
        if (Status status = uart.bind(context); status.is_error()) return UMKA_KABI_EIO;
        uint8_t status = 0;
        if (Status result = uart.read(Register::LineStatus, &status); result.is_error()) {
            return result;
        }
        chardev::PollEvents seen{};
        if (ring_fill(state_of(context)) != 0 || (status & kLineStatusDataReady) != 0) {
            seen = seen | chardev::PollEvents::Readable;
        }
        if ((status & kLineStatusTransmitEmpty) != 0) seen = seen | chardev::PollEvents::Writable;
        if ((status & kLineStatusReceiveFifoError) != 0) seen = seen | chardev::PollEvents::Error;
        *ready = seen & (interest | chardev::PollEvents::Error);
        return Status::ok();
    }
};
static_assert(__is_empty(SerialCharDevice), "module code keeps no state of its own");

// --- bus_access.IrqHandler -----------------------------------------------------------------

struct SerialIrqHandler {
    // Drains the receive FIFO into SerialState's ring until the FIFO is empty or the ring
    // is full; what does not fit stays in the UART's FIFO for read() (no byte is dropped
    // here, and there is no drop counter in SerialState v1). Reading LSR and RBR is also
    // what acknowledges the 16550's receive interrupts. The cookie is unused: one UART.
    // It races no read(): with the interrupt on read() takes only from the ring, and without
    // it nothing calls this. An interrupt with no byte waiting is NotMine (the nucleus counts
    // it as unhandled).
    static bus::IrqOutcome handle_interrupt(void* context, uint64_t) {
        serial::SerialState& state = state_of(context);
        Uart uart;
        if (uart.bind(context).is_error()) {
            log_line(context, services::LogLevel::Error,
                     "ttyS0: handle_interrupt: no bus_access.PortIo binding");
            return bus::IrqOutcome::NotMine;
        }
        bool data_waited = false;
        uint32_t head = __atomic_load_n(&state.receive_head, __ATOMIC_ACQUIRE);
        uint32_t tail = __atomic_load_n(&state.receive_tail, __ATOMIC_RELAXED);
        while (tail - head < kReceiveCapacity) {
            uint8_t status = 0;
            uint8_t byte = 0;
            if (uart.read(Register::LineStatus, &status).is_error() ||
                ((status & kLineStatusDataReady) != 0 &&
                 uart.read(Register::Data, &byte).is_error())) {
                log_line(context, services::LogLevel::Error,
                         "ttyS0: handle_interrupt: PortIo refused a UART register read");
                break;
            }
            if ((status & kLineStatusDataReady) == 0) break;
            data_waited = true;
            state.receive_buffer[tail % kReceiveCapacity] = byte;
            ++tail;
            __atomic_store_n(&state.receive_tail, tail, __ATOMIC_RELEASE);
            umka::serial_driver::count_received(state, 1);
        }
        // A full ring leaves bytes in the FIFO: the interrupt was still the UART's.
        if (tail - head >= kReceiveCapacity) data_waited = true;
        return data_waited ? bus::IrqOutcome::Handled : bus::IrqOutcome::NotMine;
    }
};
static_assert(__is_empty(SerialIrqHandler), "module code keeps no state of its own");

constexpr chardev::CharDeviceVtable char_device_vtable =
    chardev::make_char_device_vtable<SerialCharDevice>();
constexpr bus::IrqHandlerVtable irq_handler_vtable =
    bus::make_irq_handler_vtable<SerialIrqHandler>();

// Once committed (module_entry.h), so a dry-run swap never touches the running state: a
// carried receive ring that claims more than it can hold cannot be trusted byte by byte.
int32_t start_serial(UmkaModuleBinding* binding) {
    auto* state = umka::kabi::module_state<serial::SerialState>(binding);
    if (binding->states[0].origin == UMKA_STATE_ORIGIN_CARRIED &&
        ring_fill(*state) > kReceiveCapacity) {
        state->receive_head = state->receive_tail;
        log_line(binding, services::LogLevel::Warning,
                 "ttyS0: carried receive ring was inconsistent (tail - head > 256); emptied");
    }
    return UMKA_KABI_OK;
}

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_SERIAL_CONSOLE();

// Touches no port: the UART is programmed on first open, so binding (and a swap, which
// binds the replacement before switching) never disturbs the line.
UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, kRequiredCount, kProvidedCount, kStateCount)) {
        return UMKA_KABI_EINVAL;
    }
    auto* state = umka::kabi::module_state<serial::SerialState>(binding);
    // Schema 1 is the only one; a newer (append-only) schema starts with it.
    if (state == nullptr || binding->states[0].schema_version == 0) return UMKA_KABI_EINVAL;
    if (int32_t status = umka_module_set_start(binding, start_serial); status != UMKA_KABI_OK) {
        return status;
    }
    // A successor in a live swap takes over SerialState through the import function
    // (the binding check above guarantees the field exists).
    if (int32_t status =
            umka_module_set_state_import(binding, umka::serial_driver::import_serial_state);
        status != UMKA_KABI_OK) {
        return status;
    }
    if (Status status = umka_module_provide(binding, kCharDevice, &char_device_vtable, binding);
        status.is_error()) {
        return status.code();
    }
    return umka_module_provide(binding, kIrqHandler, &irq_handler_vtable, binding);
}
