#include "nucleus/module/module_binder.h"

namespace umka::modules {
namespace {

constexpr uintptr_t kStateAlignment = 16;

// What `binding.required` points at while umka_module_entry runs: every slot empty, so a
// module's entry cannot reach another service (module_entry.h: entry only exchanges
// vtables; entry also runs for a dry-run swap and for a swap that is then refused). The
// real array is handed over once entry returned.
constinit const UmkaServiceSlot kEntryPhaseSlot{nullptr};
struct EntryPhaseRequired {
    UmkaRequiredService entries[kMaximumRequired];
};
constexpr EntryPhaseRequired make_entry_phase_required() {
    EntryPhaseRequired required{};
    for (UmkaRequiredService& entry : required.entries) entry = {&kEntryPhaseSlot, 0};
    return required;
}
constinit const EntryPhaseRequired kEntryPhaseRequired = make_entry_phase_required();

// The module's own one-line reason (umka_module_refuse), or "" when it gave none. The
// block is nucleus memory the module may have written anything into: the last byte is
// forced to NUL before it is read as text.
const char* refusal_of(ModuleBindingBlock& block) {
    block.binding.refusal[UMKA_MODULE_REFUSAL_SIZE - 1] = '\0';
    return block.binding.refusal;
}

// Undoes a partial bind: published slots, bindings, capabilities.
void roll_back(ModuleBindingBlock& block, size_t published_count, ServiceRegistry& registry,
               CapabilityTable& capabilities) {
    Diagnostic ignored;
    for (size_t index = 0; index < published_count; ++index) {
        // Nobody is bound to these (a failed bind: consumers bind only after this module
        // loads; an unbind: checked by the caller), so they can go at once.
        if (block.published[index] != nullptr) {
            (void)registry.unpublish(block.published[index], ignored);
        }
        block.published[index] = nullptr;
    }
    registry.unbind_consumer(block.owner);
    capabilities.revoke_owned(block.owner);
}

Status check_states(const BindRequest& request, const ManifestView& manifest,
                    Diagnostic& diagnostic) {
    if (request.state_count != manifest.state_count()) {
        return refuse(diagnostic, Errno::InvalidArgument,
                      "module '%s' declares %zu state(s) but %zu region(s) were given",
                      manifest.name(), manifest.state_count(), request.state_count);
    }
    for (size_t index = 0; index < manifest.state_count(); ++index) {
        StateEntry state = manifest.state(index);
        const UmkaStateRegion& region = request.states[index];
        if (region.base == nullptr || reinterpret_cast<uintptr_t>(region.base) % kStateAlignment) {
            return refuse(diagnostic, Errno::InvalidArgument,
                          "state '%s' of '%s': region %p is not %zu-byte aligned memory",
                          state.name, manifest.name(), region.base, size_t(kStateAlignment));
        }
        if (region.size < state.size) {
            return refuse(diagnostic, Errno::InvalidArgument,
                          "state '%s' of '%s': region holds %lu bytes, the manifest needs %u",
                          state.name, manifest.name(), region.size, state.size);
        }
    }
    return Status::ok();
}

// The module's answer for provides[index]: a vtable inside its own read-only image whose
// header is well formed and at least the manifest's version, every slot pointing into the
// image (a slot pointing elsewhere would jump out of the module on a call).
Status check_provided(const LoadedModule& module, const ManifestView& manifest, size_t index,
                      const UmkaProvidedInterface& provided, Diagnostic& diagnostic) {
    InterfaceEntry entry = manifest.provided(index);
    const auto* header = static_cast<const umka_kabi_vtable_header*>(provided.vtable);
    if (header == nullptr) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "module '%s' did not provide %s.%s (provides[%zu] left empty)",
                      manifest.name(), entry.package, entry.name, index);
    }
    if (!module.contains(header, sizeof(*header))) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "module '%s': vtable of %s.%s at %p is outside the module image",
                      manifest.name(), entry.package, entry.name, provided.vtable);
    }
    if (const char* problem = vtable_header_problem(header, entry.version)) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "module '%s': vtable of %s.%s (size %u, version %u, manifest version %u): %s",
                      manifest.name(), entry.package, entry.name, header->vtable_size,
                      header->version, entry.version, problem);
    }
    if (!module.contains(header, header->vtable_size)) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "module '%s': vtable of %s.%s (%u bytes) runs past the module image",
                      manifest.name(), entry.package, entry.name, header->vtable_size);
    }
    const uint8_t* slots = reinterpret_cast<const uint8_t*>(header) + UMKA_KABI_VTABLE_HEADER_SIZE;
    size_t slot_count = (header->vtable_size - UMKA_KABI_VTABLE_HEADER_SIZE) / sizeof(void*);
    for (size_t slot = 0; slot < slot_count; ++slot) {
        uintptr_t target;
        __builtin_memcpy(&target, slots + slot * sizeof(void*), sizeof(target));
        if (!module.contains(reinterpret_cast<const void*>(target), 1)) {
            return refuse(diagnostic, Errno::ExecFormat,
                          "module '%s': slot %zu of the %s.%s vtable points to 0x%lx, outside "
                          "the module",
                          manifest.name(), slot, entry.package, entry.name, uint64_t(target));
        }
    }
    return Status::ok();
}

}  // namespace

Status bind_module(const BindRequest& request, ModuleBindingBlock& block, ServiceRegistry& registry,
                   CapabilityTable& capabilities, Diagnostic& diagnostic) {
    const LoadedModule& module = *request.module;
    const ManifestView& manifest = module.manifest_view;
    const char* name = manifest.name();
    if (manifest.required_count() > kMaximumRequired ||
        manifest.provided_count() > kMaximumProvided ||
        manifest.state_count() > kMaximumBoundStates) {
        return refuse(diagnostic, Errno::NoSpace,
                      "module '%s' has %zu requires, %zu provides, %zu states; this nucleus "
                      "binds at most %zu, %zu, %zu",
                      name, manifest.required_count(), manifest.provided_count(),
                      manifest.state_count(), kMaximumRequired, kMaximumProvided,
                      kMaximumBoundStates);
    }
    TRY(check_states(request, manifest, diagnostic));
    block = ModuleBindingBlock{};
    block.owner = request.owner;

    for (size_t index = 0; index < manifest.required_count(); ++index) {
        InterfaceEntry needed = manifest.required(index);
        const char* provider = request.providers != nullptr ? request.providers[index] : nullptr;
        Result<UmkaServiceSlot*> slot = registry.find(needed.package, needed.name, provider);
        if (slot.is_error()) {
            roll_back(block, 0, registry, capabilities);
            if (provider != nullptr) {
                return refuse(diagnostic, Errno::NotFound,
                              "module '%s' requires %s.%s >= %u but '%s' has not published it",
                              name, needed.package, needed.name, needed.version, provider);
            }
            return refuse(diagnostic, Errno::NotFound,
                          "module '%s' requires %s.%s >= %u but no provider has published it", name,
                          needed.package, needed.name, needed.version);
        }
        Status bound = registry.bind(name, request.owner, slot.value(), needed.version, diagnostic);
        if (bound.is_error()) {
            roll_back(block, 0, registry, capabilities);
            return bound;
        }
        Result<CapabilityHandle> capability = capabilities.insert(
            slot.value(), CapabilityKind::ServiceBinding, Rights::Call, request.owner);
        if (capability.is_error()) {
            roll_back(block, 0, registry, capabilities);
            return refuse(diagnostic, capability.error(), "no capability for '%s' -> %s.%s (%s)",
                          name, needed.package, needed.name, errno_name(capability.error()));
        }
        block.required[index] = UmkaRequiredService{slot.value(), capability.value().value};
    }
    for (size_t index = 0; index < manifest.state_count(); ++index) {
        block.states[index] = request.states[index];
    }
    block.binding = UmkaModuleBinding{UMKA_MODULE_ABI_VERSION,
                                      uint32_t(sizeof(UmkaModuleBinding)),
                                      uint32_t(manifest.required_count()),
                                      uint32_t(manifest.provided_count()),
                                      uint32_t(manifest.state_count()),
                                      0,
                                      kEntryPhaseRequired.entries,
                                      block.provided,
                                      block.states,
                                      nullptr,
                                      nullptr,
                                      {}};

    int32_t result = module.entry(&block.binding);
    block.binding.required = block.required;
    if (result != 0) {
        roll_back(block, 0, registry, capabilities);
        Errno error = (result > 0 && result < 4096) ? Errno(result) : Errno::InvalidArgument;
        const char* reason = refusal_of(block);
        return refuse(diagnostic, error, "umka_module_entry of '%s' returned %d (%s)%s%s", name,
                      int(result), errno_name(Errno(result)), reason[0] != '\0' ? ": " : "",
                      reason);
    }
    // The import and start functions are called by the nucleus: they must be the module's
    // own code, like every vtable slot.
    if (block.binding.import_state != nullptr &&
        !module.contains(reinterpret_cast<const void*>(block.binding.import_state), 1)) {
        roll_back(block, 0, registry, capabilities);
        return refuse(diagnostic, Errno::ExecFormat,
                      "module '%s': its state import function at %p is outside the module image",
                      name, reinterpret_cast<const void*>(block.binding.import_state));
    }
    if (block.binding.start != nullptr &&
        !module.contains(reinterpret_cast<const void*>(block.binding.start), 1)) {
        roll_back(block, 0, registry, capabilities);
        return refuse(diagnostic, Errno::ExecFormat,
                      "module '%s': its start function at %p is outside the module image", name,
                      reinterpret_cast<const void*>(block.binding.start));
    }
    for (size_t index = 0; index < manifest.provided_count(); ++index) {
        Status checked = check_provided(module, manifest, index, block.provided[index], diagnostic);
        if (checked.is_error()) {
            roll_back(block, 0, registry, capabilities);
            return checked;
        }
    }
    for (size_t index = 0; index < manifest.provided_count(); ++index) {
        if (request.publication == Publication::Withhold) break;
        InterfaceEntry entry = manifest.provided(index);
        ServiceProvider provider{
            name, static_cast<const umka_kabi_vtable_header*>(block.provided[index].vtable),
            block.provided[index].context, entry.version};
        Result<UmkaServiceSlot*> slot =
            registry.publish(entry.package, entry.name, provider, diagnostic);
        if (slot.is_error()) {
            roll_back(block, index, registry, capabilities);
            return slot.error();
        }
        block.published[index] = slot.value();
    }
    block.bound = 1;
    return Status::ok();
}

Status start_module(ModuleBindingBlock& block, const char* module_name, Diagnostic& diagnostic) {
    if (!block.bound) {
        return refuse(diagnostic, Errno::InvalidArgument, "start of '%s': it is not bound",
                      module_name);
    }
    if (block.binding.start == nullptr) return Status::ok();
    block.binding.refusal[0] = '\0';
    int32_t result = block.binding.start(&block.binding);
    if (result == 0) return Status::ok();
    Errno error = (result > 0 && result < 4096) ? Errno(result) : Errno::InvalidArgument;
    const char* reason = refusal_of(block);
    return refuse(diagnostic, error, "start of '%s' returned %d (%s)%s%s", module_name, int(result),
                  errno_name(Errno(result)), reason[0] != '\0' ? ": " : "", reason);
}

Status plan_swap_provided(const ModuleBindingBlock& current, const ModuleBindingBlock& replacement,
                          const ManifestView& current_manifest,
                          const ManifestView& replacement_manifest, ServiceRegistry& registry,
                          ProvidedSwap& plan, Diagnostic& diagnostic) {
    plan = ProvidedSwap{};
    plan.provider = replacement_manifest.name();
    size_t count = current_manifest.provided_count();
    if (!current.bound || !replacement.bound) {
        return refuse(diagnostic, Errno::InvalidArgument, "swap of '%s': a module is not bound",
                      current_manifest.name());
    }
    if (replacement_manifest.provided_count() != count) {
        return refuse(diagnostic, Errno::InvalidArgument,
                      "swap of '%s' by '%s': they provide %zu and %zu interfaces; a replacement "
                      "provides exactly what it replaces",
                      current_manifest.name(), replacement_manifest.name(), count,
                      replacement_manifest.provided_count());
    }
    for (size_t index = 0; index < count; ++index) {
        InterfaceEntry entry = current_manifest.provided(index);
        size_t found = replacement_manifest.find_provided(entry.package, entry.name);
        if (found == ManifestView::kNotFound || current.published[index] == nullptr ||
            replacement.published[found] != nullptr) {
            cancel_swap_provided(registry, plan);
            return refuse(diagnostic, Errno::InvalidArgument,
                          "swap of '%s': %s.%s is not published by it or not withheld by '%s'",
                          current_manifest.name(), entry.package, entry.name,
                          replacement_manifest.name());
        }
        ServiceProvider provider{
            replacement_manifest.name(),
            static_cast<const umka_kabi_vtable_header*>(replacement.provided[found].vtable),
            replacement.provided[found].context, replacement_manifest.provided(found).version};
        Result<UmkaServiceRecord*> record =
            registry.reserve_swap(current.published[index], provider, diagnostic);
        if (record.is_error()) {
            cancel_swap_provided(registry, plan);
            return record.error();
        }
        plan.matching[index] = found;
        plan.records[index] = record.value();
        plan.count = index + 1;
    }
    return Status::ok();
}

Status apply_swap_provided(ModuleBindingBlock& current, ModuleBindingBlock& replacement,
                           ServiceRegistry& registry, ProvidedSwap& plan,
                           const UmkaServiceRecord** retired, size_t* retired_count,
                           Diagnostic& diagnostic) {
    *retired_count = 0;
    // Everything is checked before the first store, so a refusal leaves the old module in
    // place (the evolution protocol's "a failed swap leaves the old module running").
    for (size_t index = 0; index < plan.count; ++index) {
        TRY(registry.check_reserved(current.published[index], plan.records[index], plan.provider,
                                    diagnostic));
    }
    for (size_t index = 0; index < plan.count; ++index) {
        size_t found = plan.matching[index];
        Result<const UmkaServiceRecord*> old = registry.commit_swap(
            current.published[index], plan.records[index], plan.provider, diagnostic);
        if (old.is_error()) return old.error();  // not reached: checked above
        retired[(*retired_count)++] = old.value();
        replacement.published[found] = current.published[index];
        current.published[index] = nullptr;
    }
    plan = ProvidedSwap{};
    return Status::ok();
}

void cancel_swap_provided(ServiceRegistry& registry, ProvidedSwap& plan) {
    for (size_t index = 0; index < plan.count; ++index) registry.retire(plan.records[index]);
    plan = ProvidedSwap{};
}

Status swap_provided(ModuleBindingBlock& current, ModuleBindingBlock& replacement,
                     const ManifestView& current_manifest, const ManifestView& replacement_manifest,
                     ServiceRegistry& registry, const UmkaServiceRecord** retired,
                     size_t* retired_count, Diagnostic& diagnostic) {
    *retired_count = 0;
    ProvidedSwap plan;
    TRY(plan_swap_provided(current, replacement, current_manifest, replacement_manifest, registry,
                           plan, diagnostic));
    Status applied = apply_swap_provided(current, replacement, registry, plan, retired,
                                         retired_count, diagnostic);
    if (applied.is_error()) cancel_swap_provided(registry, plan);
    return applied;
}

Status unbind_module(ModuleBindingBlock& block, const char* module_name, ServiceRegistry& registry,
                     CapabilityTable& capabilities, Diagnostic& diagnostic) {
    if (!block.bound) {
        return refuse(diagnostic, Errno::InvalidArgument, "module '%s' is not bound", module_name);
    }
    // Check every slot first so a refusal changes nothing.
    for (size_t index = 0; index < block.binding.provided_count; ++index) {
        const ServiceEntry* entry = registry.entry_of(block.published[index]);
        if (entry != nullptr && entry->consumer_count > 0) {
            Status status = registry.unpublish(block.published[index], diagnostic);
            return status.is_error() ? status : Status(Errno::Busy);
        }
    }
    roll_back(block, block.binding.provided_count, registry, capabilities);
    block.bound = 0;
    return Status::ok();
}

}  // namespace umka::modules
