// The console's `pci` (served through console_command.CommandSet): one line per function,
// `bb:dd.f vendor:device class driver irq`, from the table in PciState; `pci bars` lists
// every implemented BAR.
#include "config_path.h"
#include "pci_bus_driver.h"
#include "umka/command_output.h"
#include "umka/command_words.h"
#include "umka/kabi/device_registry.hpp"
#include "umka/line_text.h"

namespace umka::pci {
namespace {

namespace pcibus = kabi::pci_bus;

constexpr char kDescription[] =
    "pci         pci: every PCI function (bb:dd.f vendor:device class driver irq; * claimed) | "
    "pci bars: their BARs\n";
constexpr char kUsage[] = "usage: pci | pci bars\n";

using Output = CommandOutput;

template <uint64_t N>
void add_address(LineText<N>& line, const pcibus::PciAddress& address) {
    line.hex_digits(address.bus, 2)
        .add(":")
        .hex_digits(address.device, 2)
        .add(".")
        .hex_digits(address.function, 1);
}

template <uint64_t N>
void add_interrupt(LineText<N>& line, const Record& record) {
    switch (InterruptKind(record.interrupt_kind)) {
    case InterruptKind::Msix:
        line.add("msix(").number(record.msix_vectors).add(")");
        break;
    case InterruptKind::Msi:
        line.add("msi(").number(record.msi_vectors).add(")");
        break;
    case InterruptKind::Intx:
        line.add("int").add("ABCD" + ((record.info.interrupt_pin - 1) & 3), 1);
        break;
    case InterruptKind::None:
        line.add("none");
        break;
    }
}

const char* bar_kind_name(pcibus::BarKind kind) {
    switch (kind) {
    case pcibus::BarKind::Memory32:
        return "mem32";
    case pcibus::BarKind::Memory64:
        return "mem64";
    case pcibus::BarKind::Io:
        return "io";
    case pcibus::BarKind::Absent:
        break;
    }
    return "absent";
}

// The driver the device registry bound to the function at `address` ("" when none, or no
// registry), without its ".umod".
void driver_of(const UmkaModuleBinding* binding, const pcibus::PciAddress& address,
               char (&name)[32]) {
    name[0] = '\0';
    kabi::device_registry::DevicesRef devices;
    if (kabi::bind_required(binding, kDevices, &devices).is_error()) return;
    for (uint32_t index = 0;; ++index) {
        kabi::device_registry::DeviceDescription device{};
        if (devices.describe(index, &device).is_error()) return;
        const pcibus::PciAddress& where = device.info.address;
        if (where.bus != address.bus || where.device != address.device ||
            where.function != address.function) {
            continue;
        }
        uint32_t length = 0;
        while (length + 1 < sizeof name && device.driver[length] != 0 &&
               device.driver[length] != '.') {
            name[length] = char(device.driver[length]);
            ++length;
        }
        name[length] = '\0';
        return;
    }
}

void list_functions(const UmkaModuleBinding* binding, const State& state, uint32_t count,
                    Output& out) {
    LineText<80> heading;
    heading.add("bb:dd.f vendor:device class driver      irq");
    out.line(heading);
    for (uint32_t index = 0; index < count; ++index) {
        const Record& record = state.functions[index];
        char driver[32];
        driver_of(binding, record.info.address, driver);
        uint32_t driver_length = 0;
        while (driver[driver_length] != '\0') ++driver_length;
        LineText<160> line;
        add_address(line, record.info.address);
        line.add(" ")
            .hex_digits(record.info.vendor_id, 4)
            .add(":")
            .hex_digits(record.info.device_id, 4)
            .add("   ")
            .hex_digits(record.info.class_code, 2)
            .hex_digits(record.info.subclass, 2)
            .add("  ")
            .add(driver_length != 0 ? driver : "-");
        uint32_t column = driver_length != 0 ? driver_length : 1;
        if (__atomic_load_n(&record.claimed, __ATOMIC_ACQUIRE) != 0) {
            line.add("*");
            ++column;
        }
        for (; column < 12; ++column) line.add(" ");
        add_interrupt(line, record);
        if (record.problem != 0) {
            line.add("  problem: ")
                .add(problem_name(Problem(record.problem)))
                .add(" (")
                .hex(record.problem_detail)
                .add(")");
        }
        out.line(line);
    }
}

void list_bars(const State& state, uint32_t count, Output& out) {
    for (uint32_t index = 0; index < count; ++index) {
        const Record& record = state.functions[index];
        for (uint32_t bar = 0; bar < kMaximumBars; ++bar) {
            const pcibus::BarInfo& info = record.bars[bar];
            if (info.kind == pcibus::BarKind::Absent) continue;
            LineText<120> line;
            add_address(line, record.info.address);
            line.add(" bar").number(bar).add(" ").add(bar_kind_name(info.kind)).add(" ");
            line.hex(info.base).add(" +").hex(info.length);
            if (info.prefetchable != 0) line.add(" prefetchable");
            out.line(line);
        }
    }
}

}  // namespace

uint8_t pci_command_precedence() {
    return 128;  // an ordinary module's set (console_command.kabi)
}

Status describe_pci_command(char* output, uint64_t capacity, uint64_t* written) {
    Output out(output, capacity);
    out.add(kDescription, sizeof kDescription - 1);
    *written = out.length();
    return out.truncated() ? Status(UMKA_KABI_ENOSPC) : Status::ok();
}

Status pci_command(const UmkaModuleBinding* binding, const char* const* words, uint32_t count,
                   char* output, uint64_t capacity, uint64_t* written) {
    if (!umka::same_word(words[0], "pci")) return UMKA_KABI_ENOENT;
    Output out(output, capacity);
    const State& state = state_of(binding);
    Status status = Status::ok();
    if (__atomic_load_n(&state.enumerated, __ATOMIC_ACQUIRE) == 0) {
        static constexpr char kNotYet[] = "pci: the bus has not been enumerated\n";
        out.add(kNotYet, sizeof kNotYet - 1);
        status = UMKA_KABI_EINVAL;
    } else if (count == 1) {
        list_functions(binding, state, state.function_count, out);
        LineText<120> summary;
        summary.number(state.function_count)
            .add(" functions on ")
            .number(state.buses_scanned)
            .add(" buses through ")
            .add(mechanism_name(Mechanism(state.mechanism)));
        if (state.dropped != 0) summary.add(", ").number(state.dropped).add(" not kept");
        if (state.bridges_refused != 0) {
            summary.add(", ").number(state.bridges_refused).add(" bridges refused");
        }
        out.line(summary);
    } else if (count == 2 && umka::same_word(words[1], "bars")) {
        list_bars(state, state.function_count, out);
    } else {
        out.add(kUsage, sizeof kUsage - 1);
        status = UMKA_KABI_EINVAL;
    }
    *written = out.length();
    if (status.is_ok() && out.truncated()) return UMKA_KABI_ENOSPC;
    return status;
}

}  // namespace umka::pci
