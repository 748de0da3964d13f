// A typed, read-only view of a module's .kabi_manifest section (format 1, layout in the
// generated umka/kabi/kabi_base.h): name, version, provides[], requires[], states[],
// matches[] (the devices a driver drives), transport mask and tier range. parse() validates
// everything once; the accessors then only read. Fields are read with memcpy, so the bytes may sit
// at any alignment (a module inside a cpio bundle is only 4-byte aligned).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"
#include "nucleus/module/diagnostic.h"
#include "umka/kabi/kabi_base.h"

namespace umka::modules {

// One provides/requires record. package and name point into the manifest bytes and are
// NUL-terminated identifiers.
struct InterfaceEntry {
    const char* package;
    const char* name;
    uint32_t version;  // provides: implemented version; requires: minimum version
    uint8_t transport_mask;
    uint8_t min_tier;
    uint8_t max_tier;
};

struct StateEntry {
    const char* name;
    uint32_t version;
    uint32_t size;  // bytes of the current schema version
};

// One device match (IDL `matches pci ...`); fields as in umka_kabi_manifest_match.
enum class DeviceMatchKind : uint8_t { VendorDevice = 1, Class = 2 };
struct DeviceMatch {
    DeviceMatchKind kind;
    uint16_t first;   // vendor ID, or class << 8 | subclass
    uint16_t second;  // device ID (0 for a class match)

    bool fits(uint16_t vendor_id, uint16_t device_id, uint8_t class_code, uint8_t subclass) const {
        if (kind == DeviceMatchKind::Class) return (uint16_t(class_code) << 8 | subclass) == first;
        return vendor_id == first && device_id == second;
    }
};

inline constexpr uint8_t kTransportMaskAll =
    UMKA_KABI_TRANSPORT_DIRECT | UMKA_KABI_TRANSPORT_RING | UMKA_KABI_TRANSPORT_IPC;
inline constexpr uint8_t kHighestTier = 2;
// Limits this nucleus puts on one manifest (provides + requires, and states), so that
// validation stays cheap and the binder's per-module arrays stay small.
inline constexpr size_t kMaximumInterfaces = 128;
inline constexpr size_t kMaximumStates = 16;
inline constexpr size_t kMaximumMatches = UMKA_KABI_MAXIMUM_MATCHES;
inline constexpr uint32_t kMaximumWatchdogMs = 60'000;

class ManifestView {
public:
    constexpr ManifestView() = default;

    // Errno::BadMessage with the reason when the bytes are not a well-formed manifest:
    // magic, format, header size, total_size equal to `size` and to what the counts need,
    // NUL-terminated identifier names, versions >= 1, transport masks and tier ranges in
    // range, reserved fields zero, no interface listed twice, no module requiring what it
    // provides itself, no state listed twice.
    static Result<ManifestView> parse(const void* bytes, size_t size, Diagnostic& diagnostic);

    const char* name() const { return reinterpret_cast<const char*>(bytes_) + kNameOffset; }
    uint32_t module_version() const { return header_.module_version; }
    uint8_t transport_mask() const { return header_.transport_mask; }
    uint8_t min_tier() const { return header_.min_tier; }
    uint8_t max_tier() const { return header_.max_tier; }
    // How long one guarded call into the module may run (IDL `watchdog N ms`); 0: the
    // nucleus's default.
    uint32_t watchdog_ms() const { return header_.watchdog_ms; }
    size_t provided_count() const { return header_.provides_count; }
    size_t required_count() const { return header_.requires_count; }
    size_t state_count() const { return header_.state_count; }
    size_t match_count() const { return header_.match_count; }
    const uint8_t* bytes() const { return bytes_; }
    size_t size() const { return header_.total_size; }
    bool is_valid() const { return bytes_ != nullptr; }

    // index < the matching count (checked by the caller; out of range is a bug).
    InterfaceEntry provided(size_t index) const;
    InterfaceEntry required(size_t index) const;
    StateEntry state(size_t index) const;
    DeviceMatch match(size_t index) const;

    static constexpr size_t kNotFound = ~size_t(0);
    // Index in provides[] of package.name, or kNotFound.
    size_t find_provided(const char* package, const char* name) const;

private:
    static constexpr size_t kNameOffset = 8;

    InterfaceEntry interface_at(size_t offset) const;

    const uint8_t* bytes_ = nullptr;
    umka_kabi_manifest_header header_{};
};

// "package.Name", into `buffer`; for messages.
const char* qualified_name(const InterfaceEntry& entry, char* buffer, size_t capacity);

}  // namespace umka::modules
