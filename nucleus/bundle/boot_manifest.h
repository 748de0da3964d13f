// The boot manifest (manifest.txt in the bundle): which modules to load, at which tier
// and over which transport, plus boot parameters. Line-oriented text, documented in
// initramfs/README.md:
//
//   # comment
//   module serial_console.umod tier=0 transport=direct critical ports=0x3f8+8 irq=4
//   module pci_bus_driver.umod tier=0 transport=direct ports=0xcf8+8 ecam
//   module virtio_blk.umod tier=0 transport=direct
//   module console.umod tier=1 transport=ring
//   param console.prompt=umka>
//
// Pure: parsed in place, names point into the text.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"

namespace umka::bundle {

struct TextSpan {
    const char* text;
    size_t length;

    bool equals(const char* other) const;
};

enum class Transport : uint8_t { Direct, Ring, Ipc };
enum class Criticality : uint8_t { Optional, Critical };
// `ecam` on a module line: the module is the PCI bus driver and may map the memory-mapped
// configuration space the ACPI MCFG table describes (bus_access.Mmio windows 0..n-1).
enum class ConfigurationSpace : uint8_t { NotGranted, Ecam };
inline constexpr uint8_t kMaximumTier = 2;

// `irq=N` (0..15): the ISA IRQ the module may attach as bus_access.Irq's Legacy kind.
inline constexpr uint8_t kNoIsaIrq = 0xFF;

const char* transport_name(Transport transport);

struct ModuleRequest {
    TextSpan file;  // entry name in the bundle
    uint8_t tier = 0;
    Transport transport = Transport::Direct;
    Criticality criticality = Criticality::Optional;
    // I/O ports granted to the module (bus_access.PortIo): [port_base, port_base + port_count).
    uint16_t port_base = 0;
    uint16_t port_count = 0;
    ConfigurationSpace configuration_space = ConfigurationSpace::NotGranted;
    uint8_t isa_irq = kNoIsaIrq;
};

struct Parameter {
    TextSpan key;
    TextSpan value;
};

struct ManifestError {
    uint32_t line;    // 1-based
    uint32_t column;  // 1-based
    const char* reason;
};

struct ManifestVisitor {
    void* context = nullptr;
    void (*module)(void* context, const ModuleRequest& request) = nullptr;
    void (*parameter)(void* context, const Parameter& parameter) = nullptr;
    // A malformed line. For a `module` line, `request` holds its file name (possibly empty)
    // and whether the word `critical` appears on it; nullptr for any other line.
    void (*malformed)(void* context, const ManifestError& error,
                      const ModuleRequest* request) = nullptr;
};

// Visits every line in order; a malformed line goes to `malformed` and parsing carries on
// with the next one (the loader's policy: a bad line refuses only what it names,
// docs/module-contract.md). Returns InvalidArgument with the first bad line's line, column
// and reason when any line was malformed.
Status parse_boot_manifest(const char* text, size_t length, const ManifestVisitor& visitor,
                           ManifestError& error);

}  // namespace umka::bundle
