// The console's views of the module system: `mods`, `services`, `caps <module>`.
#include <arch/cpu.h>

#include "nucleus/lib/format.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/loader/ring_bindings.h"
#include "nucleus/time/clock.h"

namespace umka::loader {
namespace {

const char* module_name(const ModuleRecord& record) {
    return record.image_loaded ? record.image.manifest_view.name() : record.file;
}

void print_binding(void* context, const modules::ServiceBindingView& binding) {
    static_cast<console::TextOutput*>(context)->print(
        "  %-16s -> %-16s %s.%s v%u (needs >= %u) %s\n", binding.consumer, binding.provider,
        binding.package, binding.name, binding.provider_version, binding.required_version,
        binding.transport == UMKA_KABI_TRANSPORT_DIRECT &&
                !consumer_uses_ring(binding.consumer, binding.package, binding.name)
            ? "direct"
            : "ring");
}

void print_capability(void* context, modules::CapabilityHandle handle,
                      const modules::CapabilityInfo& info) {
    auto* out = static_cast<console::TextOutput*>(context);
    const char* what = "";
    char object[96] = "";
    if (info.kind == modules::CapabilityKind::ServiceBinding) {
        const modules::ServiceEntry* entry =
            module_system().registry().entry_of(static_cast<const UmkaServiceSlot*>(info.object));
        if (entry != nullptr) {
            format(object, sizeof object, "%s.%s from %s", entry->package, entry->name,
                   entry->provider);
            what = object;
        }
    }
    uint32_t rights = uint32_t(info.rights);
    out->print("  0x%016lx  %-15s %c%c%c%c%c  %s\n", handle.value,
               modules::capability_kind_name(info.kind),
               rights & uint32_t(modules::Rights::Call) ? 'c' : '-',
               rights & uint32_t(modules::Rights::Read) ? 'r' : '-',
               rights & uint32_t(modules::Rights::Write) ? 'w' : '-',
               rights & uint32_t(modules::Rights::Swap) ? 's' : '-',
               rights & uint32_t(modules::Rights::Revoke) ? 'v' : '-', what);
}

}  // namespace

void print_modules(console::TextOutput& out) {
    ModuleSystem& system = module_system();
    if (!system.initialized() || system.record_count() == 0) {
        const bundle::Inventory& inventory = system.inventory();
        if (inventory.archive == nullptr) {
            out.print("no modules (no bundle was loaded)\n");
        } else if (!inventory.usable()) {
            out.print("no modules (the bundle was refused: %s; the boot log says why)\n",
                      bundle::inventory_problem_name(inventory.problem));
        } else {
            out.print("no modules (the bundle's manifest lists none)\n");
        }
        return;
    }
    out.print(
        "module            version tier transport text-KiB file-KiB load-us sig-us  signature  "
        "state\n");
    for (size_t index = 0; index < system.record_count(); ++index) {
        const ModuleRecord& record = system.record(index);
        if (record.state == ModuleState::Loaded) {
            out.print("%-17s %7u %4u %-9s %8zu %8lu %7lu %6lu  %-9s  loaded%s%s\n",
                      module_name(record), record.image.manifest_view.module_version(), record.tier,
                      bundle::transport_name(record.transport),
                      (record.image.text_size + 1023) / 1024, (record.file_size + 1023) / 1024,
                      clock::cycles_to_microseconds(record.load_cycles),
                      clock::cycles_to_microseconds(record.verify_cycles),
                      signature_state_name(record.signature),
                      record.start_error != Errno::Ok ? ", start failed: " : "",
                      record.start_error != Errno::Ok ? record.reason : "");
        } else if (record.state == ModuleState::Replaced) {
            if (record.image_loaded) {
                out.print("%-17s       - %4u %-9s        -        -       -      -  %-9s  %s\n",
                          record.file, record.tier, bundle::transport_name(record.transport),
                          signature_state_name(record.signature), record.reason);
            }
        } else {
            out.print(
                "%-17s       - %4u %-9s        -        -       -      -  %-9s  refused: %s\n",
                record.file, record.tier, bundle::transport_name(record.transport),
                signature_state_name(record.signature), record.reason);
        }
    }
}

void print_services(console::TextOutput& out) {
    ModuleSystem& system = module_system();
    if (!system.initialized()) {
        out.print("no services: no module was loaded\n");
        return;
    }
    out.print("  consumer            provider         interface\n");
    system.registry().for_each_binding(print_binding, &out);
    out.print("%zu services published, %zu bindings\n", system.registry().service_count(),
              system.registry().binding_count());
}

void print_capabilities(const char* name, console::TextOutput& out) {
    ModuleSystem& system = module_system();
    if (name[0] == '\0') {
        out.print("usage: caps <module>   (see 'mods' for the names)\n");
        return;
    }
    for (size_t index = 0; system.initialized() && index < system.record_count(); ++index) {
        const ModuleRecord& record = system.record(index);
        if (record.state != ModuleState::Loaded) continue;
        const char* loaded_name = record.image.manifest_view.name();
        size_t length = 0;
        while (name[length] != '\0' && name[length] != ' ' && loaded_name[length] == name[length]) {
            ++length;
        }
        bool whole_word = name[length] == '\0' || name[length] == ' ';
        if (!whole_word || loaded_name[length] != '\0') continue;
        out.print("capabilities of %s (rights: c call, r read, w write, s swap, v revoke):\n",
                  loaded_name);
        system.capabilities().for_each_owned(record.owner, print_capability, &out);
        return;
    }
    out.print("caps: no loaded module named '%s'\n", name);
}

}  // namespace umka::loader
