#include "initramfs/tools/manifest_rules.h"

#include <bit>
#include <cstdio>
#include <cstring>
#include <string>

#include "umka/kabi/kabi_base.h"

namespace umka::tools {
namespace {

// The section is read by copying into kabi_base.h's structures, which matches the module's
// little-endian layout only on a little-endian host (every host UmkaOS builds on).
static_assert(std::endian::native == std::endian::little);

constexpr size_t kHeaderSize = sizeof(umka_kabi_manifest_header);
constexpr size_t kInterfaceSize = sizeof(umka_kabi_manifest_interface);
constexpr size_t kStateSize = sizeof(umka_kabi_manifest_state);
constexpr uint32_t kKnownTransports =
    UMKA_KABI_TRANSPORT_DIRECT | UMKA_KABI_TRANSPORT_RING | UMKA_KABI_TRANSPORT_IPC;

std::string hex32(uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof(text), "0x%08x", value);
    return text;
}

// Checks a fixed-size name field: NUL-terminated inside the field and not empty.
// Returns the name, or an empty string after reporting the problem.
std::string read_name(const char (&field)[UMKA_KABI_NAME_SIZE], const std::string& what,
                      std::vector<Violation>& violations) {
    size_t length = strnlen(field, UMKA_KABI_NAME_SIZE);
    if (length == UMKA_KABI_NAME_SIZE) {
        violations.push_back({rule::kManifest, what + " is not NUL-terminated within its " +
                                                   std::to_string(UMKA_KABI_NAME_SIZE) + " bytes"});
        return "";
    }
    if (length == 0) {
        violations.push_back({rule::kManifest, what + " is empty"});
        return "";
    }
    return std::string(field, length);
}

void check_interface(const umka_kabi_manifest_interface& interface, const std::string& where,
                     std::vector<Violation>& violations) {
    std::string package = read_name(interface.package, where + " package", violations);
    std::string name = read_name(interface.name, where + " name", violations);
    std::string label = where + " (" + package + "." + name + ")";
    if (interface.version == 0) {
        violations.push_back({rule::kManifest, label + " has version 0; versions start at 1"});
    }
    if ((interface.transport_mask & ~kKnownTransports) != 0) {
        violations.push_back({rule::kManifest, label + " has unknown transport bits " +
                                                   hex32(interface.transport_mask)});
    }
    if (interface.min_tier > interface.max_tier) {
        violations.push_back(
            {rule::kManifest, label + " has min_tier " + std::to_string(interface.min_tier) +
                                  " above max_tier " + std::to_string(interface.max_tier)});
    }
}

}  // namespace

void check_manifest(const uint8_t* bytes, size_t size, std::vector<Violation>& violations,
                    ModuleFacts& facts) {
    if (size < kHeaderSize) {
        violations.push_back(
            {rule::kManifest, "section holds " + std::to_string(size) + " bytes, less than the " +
                                  std::to_string(kHeaderSize) + "-byte manifest header"});
        return;
    }
    umka_kabi_manifest_header header;
    std::memcpy(&header, bytes, kHeaderSize);
    if (header.magic != UMKA_KABI_MANIFEST_MAGIC) {
        violations.push_back({rule::kManifest, "magic is " + hex32(header.magic) + ", expected " +
                                                   hex32(UMKA_KABI_MANIFEST_MAGIC) +
                                                   " (\"UKMF\")"});
        return;  // not a manifest at all: the remaining fields mean nothing
    }
    if (header.format != UMKA_KABI_MANIFEST_FORMAT) {
        violations.push_back({rule::kManifest, "format is " + std::to_string(header.format) +
                                                   "; this umka-modcheck understands format " +
                                                   std::to_string(UMKA_KABI_MANIFEST_FORMAT)});
        return;  // a different layout: do not misread it
    }
    if (header.header_size != kHeaderSize) {
        violations.push_back({rule::kManifest, "header_size is " +
                                                   std::to_string(header.header_size) +
                                                   ", format 1 headers are " +
                                                   std::to_string(kHeaderSize) + " bytes"});
    }
    std::string name = read_name(header.name, "module name", violations);
    facts.module_name = name;
    facts.module_version = header.module_version;
    if (header.module_version == 0) {
        violations.push_back({rule::kManifest, "module version is 0; versions start at 1"});
    }
    if (header.transport_mask == 0 || (header.transport_mask & ~kKnownTransports) != 0) {
        violations.push_back(
            {rule::kManifest, "transport mask " + hex32(header.transport_mask) +
                                  " must be a nonzero combination of direct (1), ring (2) and "
                                  "IPC (4)"});
    }
    if (header.min_tier > header.max_tier) {
        violations.push_back({rule::kManifest, "min_tier " + std::to_string(header.min_tier) +
                                                   " is above max_tier " +
                                                   std::to_string(header.max_tier)});
    }
    if (header.reserved0 != 0) {
        violations.push_back({rule::kManifest, "reserved header fields are not zero"});
    }
    if (header.watchdog_ms > 60'000) {
        violations.push_back(
            {rule::kManifest,
             "watchdog limit " + std::to_string(header.watchdog_ms) + " ms is over 60000 ms"});
    }

    size_t interfaces = size_t(header.provides_count) + header.requires_count;
    size_t expected = kHeaderSize + interfaces * kInterfaceSize + header.state_count * kStateSize +
                      header.match_count * sizeof(umka_kabi_manifest_match);
    if (header.total_size != expected) {
        violations.push_back(
            {rule::kManifest, "total_size is " + std::to_string(header.total_size) + " but " +
                                  std::to_string(header.provides_count) + " provides, " +
                                  std::to_string(header.requires_count) + " requires, " +
                                  std::to_string(header.state_count) + " states and " +
                                  std::to_string(header.match_count) + " device matches take " +
                                  std::to_string(expected) + " bytes"});
    }
    if (header.match_count > UMKA_KABI_MAXIMUM_MATCHES) {
        violations.push_back(
            {rule::kManifest, std::to_string(header.match_count) + " device matches; at most " +
                                  std::to_string(UMKA_KABI_MAXIMUM_MATCHES) + " are allowed"});
    }
    if (expected > size) {
        violations.push_back({rule::kManifest, "the entries need " + std::to_string(expected) +
                                                   " bytes but the section holds only " +
                                                   std::to_string(size)});
        return;  // entries would be read past the section
    }
    if (size != header.total_size) {
        violations.push_back({rule::kManifest, "section holds " + std::to_string(size) +
                                                   " bytes but the manifest's total_size is " +
                                                   std::to_string(header.total_size) +
                                                   " (a module carries exactly one manifest)"});
    }

    const uint8_t* entry = bytes + kHeaderSize;
    for (size_t index = 0; index < interfaces; ++index, entry += kInterfaceSize) {
        umka_kabi_manifest_interface interface;
        std::memcpy(&interface, entry, kInterfaceSize);
        bool provided = index < header.provides_count;
        size_t position = provided ? index : index - header.provides_count;
        check_interface(
            interface,
            std::string(provided ? "provides" : "requires") + "[" + std::to_string(position) + "]",
            violations);
    }
    for (size_t index = 0; index < header.state_count; ++index, entry += kStateSize) {
        umka_kabi_manifest_state state;
        std::memcpy(&state, entry, kStateSize);
        std::string where = "states[" + std::to_string(index) + "]";
        std::string state_name = read_name(state.name, where + " name", violations);
        if (state.version == 0) {
            violations.push_back({rule::kManifest, where + " (" + state_name +
                                                       ") has version 0; versions start at 1"});
        }
    }
    for (size_t index = 0; index < header.match_count; ++index) {
        umka_kabi_manifest_match match;
        std::memcpy(&match, entry, sizeof match);
        entry += sizeof match;
        std::string where = "matches[" + std::to_string(index) + "]";
        if (match.bus != UMKA_KABI_MATCH_BUS_PCI) {
            violations.push_back(
                {rule::kManifest,
                 where + " names bus " + std::to_string(match.bus) + "; only PCI (1) is known"});
        }
        if (match.kind != UMKA_KABI_MATCH_VENDOR_DEVICE && match.kind != UMKA_KABI_MATCH_CLASS) {
            violations.push_back(
                {rule::kManifest, where + " has kind " + std::to_string(match.kind) +
                                      ", neither vendor/device (1) nor class (2)"});
        }
        if (match.reserved != 0 || (match.kind == UMKA_KABI_MATCH_CLASS && match.second != 0)) {
            violations.push_back({rule::kManifest, where + " has reserved bits set"});
        }
    }
}

}  // namespace umka::tools
