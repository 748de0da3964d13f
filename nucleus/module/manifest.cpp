#include "nucleus/module/manifest.h"

#include "nucleus/lib/format.h"
#include "nucleus/module/names.h"

namespace umka::modules {
namespace {

constexpr size_t kHeaderSize = sizeof(umka_kabi_manifest_header);
constexpr size_t kInterfaceSize = sizeof(umka_kabi_manifest_interface);
constexpr size_t kStateSize = sizeof(umka_kabi_manifest_state);
constexpr size_t kMatchSize = sizeof(umka_kabi_manifest_match);
static_assert(kHeaderSize == 80 && kInterfaceSize == 104 && kStateSize == 56 && kMatchSize == 8,
              "manifest format 1 layout (kabi_base.h)");

template <typename T>
T read_at(const uint8_t* bytes, size_t offset) {
    T value;
    __builtin_memcpy(&value, bytes + offset, sizeof(T));
    return value;
}

// Validates a NUL-padded name field of `capacity` bytes; `what` names it in the message.
Status check_name(const char* field, size_t capacity, const char* what, Diagnostic& diagnostic) {
    size_t length = bounded_length(field, capacity);
    if (length == capacity) {
        return refuse(diagnostic, Errno::BadMessage, "%s is not NUL-terminated within %zu bytes",
                      what, capacity);
    }
    if (!is_identifier(field, length)) {
        return refuse(diagnostic, Errno::BadMessage, "%s '%s' is not an identifier", what, field);
    }
    return Status::ok();
}

Status check_transport_and_tiers(uint8_t mask, uint8_t min_tier, uint8_t max_tier, const char* what,
                                 Diagnostic& diagnostic) {
    if (mask == 0 || (mask & ~kTransportMaskAll) != 0) {
        return refuse(diagnostic, Errno::BadMessage,
                      "%s transport mask 0x%x is not a non-empty subset of direct|ring|ipc (0x7)",
                      what, unsigned(mask));
    }
    if (min_tier > max_tier || max_tier > kHighestTier) {
        return refuse(diagnostic, Errno::BadMessage, "%s tier range %u..%u is not within 0..%u",
                      what, unsigned(min_tier), unsigned(max_tier), unsigned(kHighestTier));
    }
    return Status::ok();
}

bool same_interface(const InterfaceEntry& left, const InterfaceEntry& right) {
    return names_equal(left.package, right.package) && names_equal(left.name, right.name);
}

}  // namespace

const char* qualified_name(const InterfaceEntry& entry, char* buffer, size_t capacity) {
    format(buffer, capacity, "%s.%s", entry.package, entry.name);
    return buffer;
}

InterfaceEntry ManifestView::interface_at(size_t offset) const {
    umka_kabi_manifest_interface record = read_at<umka_kabi_manifest_interface>(bytes_, offset);
    const char* base = reinterpret_cast<const char*>(bytes_ + offset);
    return InterfaceEntry{base + offsetof(umka_kabi_manifest_interface, package),
                          base + offsetof(umka_kabi_manifest_interface, name),
                          record.version,
                          record.transport_mask,
                          record.min_tier,
                          record.max_tier};
}

InterfaceEntry ManifestView::provided(size_t index) const {
    return interface_at(kHeaderSize + index * kInterfaceSize);
}

InterfaceEntry ManifestView::required(size_t index) const {
    return interface_at(kHeaderSize + (header_.provides_count + index) * kInterfaceSize);
}

StateEntry ManifestView::state(size_t index) const {
    size_t offset = kHeaderSize +
                    (size_t(header_.provides_count) + header_.requires_count) * kInterfaceSize +
                    index * kStateSize;
    umka_kabi_manifest_state record = read_at<umka_kabi_manifest_state>(bytes_, offset);
    return StateEntry{reinterpret_cast<const char*>(bytes_ + offset), record.version, record.size};
}

DeviceMatch ManifestView::match(size_t index) const {
    size_t offset = kHeaderSize +
                    (size_t(header_.provides_count) + header_.requires_count) * kInterfaceSize +
                    size_t(header_.state_count) * kStateSize + index * kMatchSize;
    umka_kabi_manifest_match record = read_at<umka_kabi_manifest_match>(bytes_, offset);
    return DeviceMatch{DeviceMatchKind(record.kind), record.first, record.second};
}

size_t ManifestView::find_provided(const char* package, const char* name) const {
    for (size_t index = 0; index < provided_count(); ++index) {
        InterfaceEntry entry = provided(index);
        if (names_equal(entry.package, package) && names_equal(entry.name, name)) return index;
    }
    return kNotFound;
}

Result<ManifestView> ManifestView::parse(const void* bytes, size_t size, Diagnostic& diagnostic) {
    if (bytes == nullptr || size < kHeaderSize) {
        return refuse(diagnostic, Errno::BadMessage,
                      "manifest is %zu bytes, shorter than its %zu-byte header", size, kHeaderSize);
    }
    ManifestView view;
    view.bytes_ = static_cast<const uint8_t*>(bytes);
    view.header_ = read_at<umka_kabi_manifest_header>(view.bytes_, 0);
    const umka_kabi_manifest_header& header = view.header_;
    if (header.magic != UMKA_KABI_MANIFEST_MAGIC) {
        return refuse(diagnostic, Errno::BadMessage,
                      "manifest magic 0x%08x is not 0x%08x (\"UKMF\")", header.magic,
                      UMKA_KABI_MANIFEST_MAGIC);
    }
    if (header.format != UMKA_KABI_MANIFEST_FORMAT) {
        return refuse(diagnostic, Errno::BadMessage,
                      "manifest format %u is not supported (this nucleus reads format %u)",
                      unsigned(header.format), UMKA_KABI_MANIFEST_FORMAT);
    }
    if (header.header_size != kHeaderSize) {
        return refuse(diagnostic, Errno::BadMessage,
                      "manifest header_size %u is not %zu (format 1)", unsigned(header.header_size),
                      kHeaderSize);
    }
    if (header.total_size != size) {
        return refuse(diagnostic, Errno::BadMessage,
                      "manifest total_size %u does not match its section size %zu",
                      header.total_size, size);
    }
    size_t needed =
        kHeaderSize + (size_t(header.provides_count) + header.requires_count) * kInterfaceSize +
        size_t(header.state_count) * kStateSize + size_t(header.match_count) * kMatchSize;
    if (needed != size) {
        return refuse(diagnostic, Errno::BadMessage,
                      "manifest counts (%u provides, %u requires, %u states, %u matches) need %zu "
                      "bytes but the manifest holds %zu",
                      unsigned(header.provides_count), unsigned(header.requires_count),
                      unsigned(header.state_count), unsigned(header.match_count), needed, size);
    }
    if (size_t(header.provides_count) + header.requires_count > kMaximumInterfaces ||
        header.state_count > kMaximumStates || header.match_count > kMaximumMatches) {
        return refuse(diagnostic, Errno::BadMessage,
                      "manifest lists %u interfaces, %u states and %u device matches; at most "
                      "%zu, %zu and %zu are allowed",
                      unsigned(header.provides_count + header.requires_count),
                      unsigned(header.state_count), unsigned(header.match_count),
                      kMaximumInterfaces, kMaximumStates, kMaximumMatches);
    }
    if (header.reserved0 != 0) {
        return refuse(diagnostic, Errno::BadMessage,
                      "manifest header reserved fields are not zero");
    }
    TRY(check_name(view.name(), UMKA_KABI_NAME_SIZE, "module name", diagnostic));
    if (header.watchdog_ms > kMaximumWatchdogMs) {
        return refuse(diagnostic, Errno::BadMessage,
                      "module '%s' asks for a watchdog limit of %u ms; at most %u ms is allowed",
                      view.name(), unsigned(header.watchdog_ms), unsigned(kMaximumWatchdogMs));
    }
    if (header.module_version == 0) {
        return refuse(diagnostic, Errno::BadMessage, "module '%s' has version 0", view.name());
    }
    TRY(check_transport_and_tiers(header.transport_mask, header.min_tier, header.max_tier, "module",
                                  diagnostic));

    char what[64];
    size_t interface_count = size_t(header.provides_count) + header.requires_count;
    for (size_t index = 0; index < interface_count; ++index) {
        bool is_provided = index < header.provides_count;
        size_t position = is_provided ? index : index - header.provides_count;
        const char* list = is_provided ? "provides" : "requires";
        size_t offset = kHeaderSize + index * kInterfaceSize;
        umka_kabi_manifest_interface record =
            read_at<umka_kabi_manifest_interface>(view.bytes_, offset);
        InterfaceEntry entry = view.interface_at(offset);
        format(what, sizeof(what), "%s[%zu] package", list, position);
        TRY(check_name(entry.package, UMKA_KABI_NAME_SIZE, what, diagnostic));
        format(what, sizeof(what), "%s[%zu] interface", list, position);
        TRY(check_name(entry.name, UMKA_KABI_NAME_SIZE, what, diagnostic));
        format(what, sizeof(what), "%s[%zu] %s.%s", list, position, entry.package, entry.name);
        if (entry.version == 0) {
            return refuse(diagnostic, Errno::BadMessage, "%s has version 0", what);
        }
        if (record.reserved != 0) {
            return refuse(diagnostic, Errno::BadMessage, "%s reserved byte is not zero", what);
        }
        TRY(check_transport_and_tiers(entry.transport_mask, entry.min_tier, entry.max_tier, what,
                                      diagnostic));
        // Duplicates within the same list, and a module requiring its own interface.
        for (size_t earlier = 0; earlier < index; ++earlier) {
            bool earlier_provided = earlier < header.provides_count;
            InterfaceEntry other = view.interface_at(kHeaderSize + earlier * kInterfaceSize);
            if (!same_interface(entry, other)) continue;
            if (earlier_provided == is_provided) {
                return refuse(diagnostic, Errno::BadMessage, "%s is listed twice in %s", what,
                              list);
            }
            return refuse(diagnostic, Errno::BadMessage,
                          "module '%s' requires %s.%s, which it provides itself", view.name(),
                          entry.package, entry.name);
        }
    }

    for (size_t index = 0; index < header.state_count; ++index) {
        StateEntry entry = view.state(index);
        format(what, sizeof(what), "states[%zu] name", index);
        TRY(check_name(entry.name, UMKA_KABI_NAME_SIZE, what, diagnostic));
        if (entry.version == 0) {
            return refuse(diagnostic, Errno::BadMessage, "state '%s' has version 0", entry.name);
        }
        if (entry.size == 0) {
            return refuse(diagnostic, Errno::BadMessage, "state '%s' has size 0", entry.name);
        }
        for (size_t earlier = 0; earlier < index; ++earlier) {
            if (names_equal(view.state(earlier).name, entry.name)) {
                return refuse(diagnostic, Errno::BadMessage, "state '%s' is listed twice",
                              entry.name);
            }
        }
    }

    size_t matches_offset = needed - size_t(header.match_count) * kMatchSize;
    for (size_t index = 0; index < header.match_count; ++index) {
        umka_kabi_manifest_match record =
            read_at<umka_kabi_manifest_match>(view.bytes_, matches_offset + index * kMatchSize);
        if (record.bus != UMKA_KABI_MATCH_BUS_PCI) {
            return refuse(diagnostic, Errno::BadMessage,
                          "matches[%zu] names bus %u; only PCI (%u) is known", index,
                          unsigned(record.bus), UMKA_KABI_MATCH_BUS_PCI);
        }
        if (record.kind != UMKA_KABI_MATCH_VENDOR_DEVICE && record.kind != UMKA_KABI_MATCH_CLASS) {
            return refuse(diagnostic, Errno::BadMessage,
                          "matches[%zu] has kind %u, neither vendor/device (1) nor class (2)",
                          index, unsigned(record.kind));
        }
        if (record.reserved != 0 || (record.kind == UMKA_KABI_MATCH_CLASS && record.second != 0)) {
            return refuse(diagnostic, Errno::BadMessage, "matches[%zu] has reserved bits set",
                          index);
        }
        DeviceMatch match = view.match(index);
        for (size_t earlier = 0; earlier < index; ++earlier) {
            DeviceMatch other = view.match(earlier);
            if (other.kind == match.kind && other.first == match.first &&
                other.second == match.second) {
                return refuse(diagnostic, Errno::BadMessage,
                              "matches[%zu] (%04x:%04x) is listed twice", index,
                              unsigned(match.first), unsigned(match.second));
            }
        }
    }
    return view;
}

}  // namespace umka::modules
