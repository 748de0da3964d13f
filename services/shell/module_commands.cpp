// mods, services, caps.
#include "commands.h"

namespace umka::shell {
namespace {

namespace api = kabi::introspection;
using kabi::Status;

uint64_t kibibytes(uint64_t bytes) {
    return (bytes + 1023) / 1024;
}

}  // namespace

Status mods(const Services& services, const Words&, Output& out) {
    if (!bound(services.modules.vtable(), "mods", "introspection.Modules", out))
        return Status::ok();
    uint32_t count = services.modules.module_count();
    if (count == 0) {
        out.text("no modules (the bundle's manifest lists none)\n");
        return Status::ok();
    }
    out.text(
        "module            version tier transport text-KiB file-KiB load-us sig-us  signature  "
        "state\n");
    for (uint32_t index = 0; index < count; ++index) {
        api::ModuleRecord record{};
        if (services.modules.module(index, &record).is_error()) continue;
        out.left_field(record.name, 17).character(' ');
        if (record.state == api::ModuleState::Loaded) {
            out.right(record.module_version, 7).character(' ').right(record.tier, 4).character(' ');
            out.left_field(record.transport, 9).character(' ');
            out.right(kibibytes(record.text_bytes), 8).character(' ');
            out.right(kibibytes(record.file_bytes), 8).character(' ');
            out.right(record.load_us, 7).character(' ').right(record.verify_us, 6).text("  ");
            out.left_field(record.signature, 9).text("  loaded");
            // Tier 1 promises isolation; say so when the module runs without it.
            if (record.tier >= 1 && record.isolation == api::Isolation::None)
                out.text(", no memory domain");
            if (record.isolation == api::Isolation::MemoryDomain) out.text(", memory domain");
            if (record.start_failed != 0) out.text(", start failed: ").field(record.reason);
            crash_summary(services, record.name, sizeof(record.name), out);
        } else {
            out.text("      - ").right(record.tier, 4).character(' ');
            out.left_field(record.transport, 9).text("        -        -       -      -  ");
            out.left_field(record.signature, 9).text("  ");
            if (record.state == api::ModuleState::Refused) out.text("refused: ");
            out.field(record.reason);
        }
        out.character('\n');
    }
    return Status::ok();
}

Status services_command(const Services& services, const Words&, Output& out) {
    if (!bound(services.modules.vtable(), "services", "introspection.Modules", out))
        return Status::ok();
    if (services.modules.module_count() == 0) {
        out.text("no services: no module was loaded\n");
        return Status::ok();
    }
    out.text("  consumer            provider         interface\n");
    uint32_t count = services.modules.binding_count();
    for (uint32_t index = 0; index < count; ++index) {
        api::BindingRecord binding{};
        if (services.modules.binding(index, &binding).is_error()) continue;
        out.text("  ")
            .left_field(binding.consumer, 16)
            .text(" -> ")
            .left_field(binding.provider, 16);
        out.character(' ').field(binding.package).character('.').field(binding.interface);
        out.text(" v").number(binding.provider_version).text(" (needs >= ");
        out.number(binding.required_version).text(") ");
        out.text(binding.transport == api::BindingTransport::Direct ? "direct\n" : "ring\n");
    }
    out.number(services.modules.service_count()).text(" services published, ");
    out.number(count).text(" bindings\n");
    return Status::ok();
}

Status caps(const Services& services, const Words& words, Output& out) {
    if (words.count != 2) {
        out.text("usage: caps <module>   (see 'mods' for the names)\n");
        return UMKA_KABI_EINVAL;
    }
    if (!bound(services.modules.vtable(), "caps", "introspection.Modules", out))
        return Status::ok();
    const char* name = words.word[1];
    uint64_t length = 0;
    while (name[length] != '\0') ++length;
    uint32_t count = 0;
    Status counted = services.modules.capability_count(name, length, &count);
    if (counted.is_error()) {
        out.text("caps: no loaded module named '").text(name).text("'\n");
        return UMKA_KABI_EINVAL;
    }
    out.text("capabilities of ").text(name);
    out.text(" (rights: c call, r read, w write, s swap, v revoke):\n");
    for (uint32_t index = 0; index < count; ++index) {
        api::CapabilityRecord record{};
        if (services.modules.capability(name, length, index, &record).is_error()) continue;
        out.text("  0x")
            .hex(record.handle, 16)
            .text("  ")
            .left_field(record.kind, 15)
            .character(' ');
        static constexpr char kLetters[] = "crwsv";
        for (uint32_t bit = 0; bit < 5; ++bit) {
            out.character((record.rights & (1u << bit)) != 0 ? kLetters[bit] : '-');
        }
        out.text("  ");
        if (record.package[0] != 0) {
            out.field(record.package).character('.').field(record.interface);
            out.text(" from ").field(record.provider);
        }
        out.character('\n');
    }
    return Status::ok();
}

}  // namespace umka::shell
