// Builds .kabi_manifest bytes (format 1) in memory for the manifest and resolver tests, the
// same layout kabi-gen emits: header, provides[], requires[], states[], matches[].
#pragma once

#include <stdint.h>

#include <cstring>
#include <string>
#include <vector>

#include "umka/kabi/kabi_base.h"

namespace umka::test {

class ManifestBuilder {
public:
    explicit ManifestBuilder(const std::string& name, uint32_t version = 1) {
        header_.magic = UMKA_KABI_MANIFEST_MAGIC;
        header_.format = UMKA_KABI_MANIFEST_FORMAT;
        header_.header_size = sizeof(umka_kabi_manifest_header);
        copy(header_.name, name);
        header_.module_version = version;
        header_.transport_mask = UMKA_KABI_TRANSPORT_DIRECT;
        header_.min_tier = 0;
        header_.max_tier = 0;
    }

    // "package.Name"
    ManifestBuilder& provides(const std::string& qualified, uint32_t version) {
        provides_.push_back(entry(qualified, version));
        return *this;
    }
    ManifestBuilder& requires_(const std::string& qualified, uint32_t minimum) {
        requires_list_.push_back(entry(qualified, minimum));
        return *this;
    }
    ManifestBuilder& state(const std::string& name, uint32_t version, uint32_t size) {
        umka_kabi_manifest_state record{};
        copy(record.name, name);
        record.version = version;
        record.size = size;
        states_.push_back(record);
        return *this;
    }
    // kind: UMKA_KABI_MATCH_VENDOR_DEVICE or UMKA_KABI_MATCH_CLASS (first = class << 8 | sub).
    ManifestBuilder& match(uint8_t kind, uint16_t first, uint16_t second,
                           uint8_t bus = UMKA_KABI_MATCH_BUS_PCI) {
        matches_.push_back(umka_kabi_manifest_match{bus, kind, 0, first, second});
        return *this;
    }
    umka_kabi_manifest_header& header() { return header_; }

    std::vector<uint8_t> build() const {
        umka_kabi_manifest_header header = header_;
        header.provides_count = uint16_t(provides_.size());
        header.requires_count = uint16_t(requires_list_.size());
        header.state_count = uint16_t(states_.size());
        header.match_count = uint16_t(matches_.size());
        size_t size =
            sizeof(header) +
            (provides_.size() + requires_list_.size()) * sizeof(umka_kabi_manifest_interface) +
            states_.size() * sizeof(umka_kabi_manifest_state) +
            matches_.size() * sizeof(umka_kabi_manifest_match);
        if (header.total_size == 0) header.total_size = uint32_t(size);
        std::vector<uint8_t> bytes(size);
        size_t offset = 0;
        append(bytes, offset, &header, sizeof(header));
        for (const auto& record : provides_) append(bytes, offset, &record, sizeof(record));
        for (const auto& record : requires_list_) append(bytes, offset, &record, sizeof(record));
        for (const auto& record : states_) append(bytes, offset, &record, sizeof(record));
        for (const auto& record : matches_) append(bytes, offset, &record, sizeof(record));
        return bytes;
    }

private:
    template <size_t N>
    static void copy(char (&field)[N], const std::string& text) {
        std::memset(field, 0, N);
        std::memcpy(field, text.data(), text.size() < N ? text.size() : N);
    }
    static umka_kabi_manifest_interface entry(const std::string& qualified, uint32_t version) {
        umka_kabi_manifest_interface record{};
        size_t dot = qualified.find('.');
        copy(record.package, qualified.substr(0, dot));
        copy(record.name, dot == std::string::npos ? "" : qualified.substr(dot + 1));
        record.version = version;
        record.transport_mask = UMKA_KABI_TRANSPORT_DIRECT;
        return record;
    }
    static void append(std::vector<uint8_t>& bytes, size_t& offset, const void* data, size_t size) {
        std::memcpy(bytes.data() + offset, data, size);
        offset += size;
    }

    umka_kabi_manifest_header header_{};
    std::vector<umka_kabi_manifest_interface> provides_;
    std::vector<umka_kabi_manifest_interface> requires_list_;
    std::vector<umka_kabi_manifest_state> states_;
    std::vector<umka_kabi_manifest_match> matches_;
};

}  // namespace umka::test
