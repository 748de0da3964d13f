#include "nucleus/module/service_registry.h"

#include "nucleus/module/names.h"

namespace umka::modules {
namespace {

constexpr uint32_t kNoRecord = 0xffffffff;

void store_record(UmkaServiceSlot* slot, const UmkaServiceRecord* record) {
    // Pairs with umka_service_slot_load's acquire: the record's fields are visible to any
    // caller that sees the pointer.
    __atomic_store_n(&slot->record, record, __ATOMIC_RELEASE);
}

const UmkaServiceRecord* load_record(const UmkaServiceSlot* slot) {
    return __atomic_load_n(&slot->record, __ATOMIC_ACQUIRE);
}

}  // namespace

const char* vtable_header_problem(const umka_kabi_vtable_header* header,
                                  uint32_t declared_version) {
    if (header == nullptr) return "the vtable pointer is null";
    if (header->vtable_size < UMKA_KABI_VTABLE_HEADER_SIZE ||
        (header->vtable_size - UMKA_KABI_VTABLE_HEADER_SIZE) % sizeof(void*) != 0) {
        return "vtable_size is not an 8-byte header plus whole pointer slots";
    }
    if (header->version == 0) return "the vtable's version is 0";
    if (header->version < declared_version) {
        return "the vtable's version is below the version the manifest provides";
    }
    return nullptr;
}

ServiceRegistry::ServiceRegistry(const ServiceRegistryStorage& storage) : storage_(storage) {
    for (size_t index = 0; index < storage_.service_capacity; ++index) {
        storage_.services[index] = ServiceEntry{};
    }
    for (size_t index = storage_.record_capacity; index-- > 0;) {
        storage_.records[index] = ServiceRecordCell{};
        storage_.records[index].next_free = free_record_;
        free_record_ = uint32_t(index);
    }
    for (size_t index = 0; index < storage_.binding_capacity; ++index) {
        storage_.bindings[index] = ServiceBinding{};
    }
}

Result<UmkaServiceRecord*> ServiceRegistry::take_record(const ServiceProvider& provider) {
    if (free_record_ == kNoRecord) return Errno::NoSpace;
    ServiceRecordCell& cell = storage_.records[free_record_];
    free_record_ = cell.next_free;
    cell.in_use = 1;
    cell.record = UmkaServiceRecord{provider.vtable, provider.context, provider.vtable->version,
                                    UMKA_KABI_TRANSPORT_DIRECT};
    return &cell.record;
}

void ServiceRegistry::retire(const UmkaServiceRecord* record) {
    if (record == nullptr) return;
    // The record is the first member of its cell; anything else is not ours to free.
    uintptr_t address = reinterpret_cast<uintptr_t>(record);
    uintptr_t first = reinterpret_cast<uintptr_t>(storage_.records);
    if (address < first || (address - first) % sizeof(ServiceRecordCell) != 0) return;
    size_t index = (address - first) / sizeof(ServiceRecordCell);
    if (index >= storage_.record_capacity) return;
    ServiceRecordCell* cell = &storage_.records[index];
    if (!cell->in_use) return;
    cell->in_use = 0;
    cell->next_free = free_record_;
    free_record_ = uint32_t(index);
}

ServiceEntry* ServiceRegistry::entry_for(const UmkaServiceSlot* slot) const {
    for (size_t index = 0; index < storage_.service_capacity; ++index) {
        ServiceEntry& entry = storage_.services[index];
        if (entry.in_use && &entry.slot == slot) return &entry;
    }
    return nullptr;
}

const ServiceEntry* ServiceRegistry::entry_of(const UmkaServiceSlot* slot) const {
    return entry_for(slot);
}

Result<UmkaServiceSlot*> ServiceRegistry::publish(const char* package, const char* name,
                                                  const ServiceProvider& provider,
                                                  Diagnostic& diagnostic) {
    if (const char* problem = vtable_header_problem(provider.vtable, provider.declared_version)) {
        return refuse(diagnostic, Errno::InvalidArgument, "publishing %s.%s from '%s': %s", package,
                      name, provider.provider, problem);
    }
    if (find(package, name, provider.provider).is_ok()) {
        return refuse(diagnostic, Errno::Exists, "%s.%s from '%s' is already published", package,
                      name, provider.provider);
    }
    ServiceEntry* entry = nullptr;
    for (size_t index = 0; index < storage_.service_capacity && entry == nullptr; ++index) {
        if (!storage_.services[index].in_use) entry = &storage_.services[index];
    }
    if (entry == nullptr) {
        return refuse(diagnostic, Errno::NoSpace, "no service slot left for %s.%s (%zu in use)",
                      package, name, storage_.service_capacity);
    }
    Result<UmkaServiceRecord*> record = take_record(provider);
    if (record.is_error()) {
        return refuse(diagnostic, Errno::NoSpace, "no service record left for %s.%s", package,
                      name);
    }
    copy_name(entry->package, kServiceNameSize, package);
    copy_name(entry->name, kServiceNameSize, name);
    copy_name(entry->provider, kServiceNameSize, provider.provider);
    entry->required_minimum = 0;
    entry->consumer_count = 0;
    entry->in_use = 1;
    store_record(&entry->slot, record.value());
    return &entry->slot;
}

Result<UmkaServiceSlot*> ServiceRegistry::find(const char* package, const char* name,
                                               const char* provider) const {
    for (size_t index = 0; index < storage_.service_capacity; ++index) {
        ServiceEntry& entry = storage_.services[index];
        if (!entry.in_use || !names_equal(entry.package, package) ||
            !names_equal(entry.name, name)) {
            continue;
        }
        if (provider == nullptr || names_equal(entry.provider, provider)) return &entry.slot;
    }
    return Errno::NotFound;
}

Result<UmkaServiceSlot*> ServiceRegistry::find_provider(const char* package, const char* name,
                                                        size_t position,
                                                        uint32_t minimum_version) const {
    for (size_t index = 0; index < storage_.service_capacity; ++index) {
        ServiceEntry& entry = storage_.services[index];
        if (!entry.in_use || !names_equal(entry.package, package) ||
            !names_equal(entry.name, name)) {
            continue;
        }
        const UmkaServiceRecord* record = load_record(&entry.slot);
        if (record == nullptr || record->interface_version < minimum_version) continue;
        if (position == 0) return &entry.slot;
        --position;
    }
    return Errno::NotFound;
}

Status ServiceRegistry::bind(const char* consumer, uint32_t consumer_id,
                             const UmkaServiceSlot* slot, uint32_t required_version,
                             Diagnostic& diagnostic) {
    ServiceEntry* entry = entry_for(slot);
    if (entry == nullptr) {
        return refuse(diagnostic, Errno::NotFound, "'%s' binds to a slot the registry never made",
                      consumer);
    }
    const UmkaServiceRecord* record = load_record(slot);
    if (record == nullptr || record->interface_version < required_version) {
        return refuse(diagnostic, Errno::InvalidArgument,
                      "module '%s' requires %s.%s >= %u but '%s' provides version %u", consumer,
                      entry->package, entry->name, required_version, entry->provider,
                      record ? record->interface_version : 0);
    }
    uint32_t service = uint32_t(entry - storage_.services);
    // Binding twice (a module that looks a provider up again) records one binding.
    for (size_t index = 0; index < storage_.binding_capacity; ++index) {
        ServiceBinding& binding = storage_.bindings[index];
        if (!binding.in_use || binding.consumer_id != consumer_id || binding.service != service) {
            continue;
        }
        if (required_version > binding.required_version) {
            binding.required_version = required_version;
            if (required_version > entry->required_minimum) {
                entry->required_minimum = required_version;
            }
        }
        return Status::ok();
    }
    for (size_t index = 0; index < storage_.binding_capacity; ++index) {
        ServiceBinding& binding = storage_.bindings[index];
        if (binding.in_use) continue;
        copy_name(binding.consumer, kServiceNameSize, consumer);
        binding.consumer_id = consumer_id;
        binding.service = service;
        binding.required_version = required_version;
        binding.in_use = 1;
        entry->consumer_count += 1;
        if (required_version > entry->required_minimum) entry->required_minimum = required_version;
        return Status::ok();
    }
    return refuse(diagnostic, Errno::NoSpace, "no binding record left for '%s' -> %s.%s (%zu used)",
                  consumer, entry->package, entry->name, storage_.binding_capacity);
}

void ServiceRegistry::unbind_consumer(uint32_t consumer_id) {
    for (size_t index = 0; index < storage_.binding_capacity; ++index) {
        ServiceBinding& binding = storage_.bindings[index];
        if (!binding.in_use || binding.consumer_id != consumer_id) continue;
        binding.in_use = 0;
        ServiceEntry& entry = storage_.services[binding.service];
        entry.consumer_count -= 1;
        // Recompute the minimum the remaining consumers need.
        entry.required_minimum = 0;
        for (size_t other = 0; other < storage_.binding_capacity; ++other) {
            const ServiceBinding& remaining = storage_.bindings[other];
            if (remaining.in_use && remaining.service == binding.service &&
                remaining.required_version > entry.required_minimum) {
                entry.required_minimum = remaining.required_version;
            }
        }
    }
}

Status ServiceRegistry::refuse_minimum(const ServiceEntry& entry, const char* provider,
                                       uint32_t version, Diagnostic& diagnostic) const {
    const char* consumer = "?";
    for (size_t index = 0; index < storage_.binding_capacity; ++index) {
        const ServiceBinding& binding = storage_.bindings[index];
        if (binding.in_use && &storage_.services[binding.service] == &entry &&
            binding.required_version > version) {
            consumer = binding.consumer;
            break;
        }
    }
    return refuse(diagnostic, Errno::InvalidArgument,
                  "swap of %s.%s to '%s' version %u refused: '%s' requires >= %u", entry.package,
                  entry.name, provider, version, consumer, entry.required_minimum);
}

Result<UmkaServiceRecord*> ServiceRegistry::reserve_swap(const UmkaServiceSlot* slot,
                                                         const ServiceProvider& provider,
                                                         Diagnostic& diagnostic) {
    ServiceEntry* entry = entry_for(slot);
    if (entry == nullptr) {
        return refuse(diagnostic, Errno::NotFound, "swap: not a slot of this registry");
    }
    if (const char* problem = vtable_header_problem(provider.vtable, provider.declared_version)) {
        return refuse(diagnostic, Errno::InvalidArgument, "swap of %s.%s to '%s': %s",
                      entry->package, entry->name, provider.provider, problem);
    }
    if (provider.vtable->version < entry->required_minimum) {
        return refuse_minimum(*entry, provider.provider, provider.vtable->version, diagnostic);
    }
    Result<UmkaServiceRecord*> record = take_record(provider);
    if (record.is_error()) {
        return refuse(diagnostic, Errno::NoSpace,
                      "swap of %s.%s: no service record free (retire swapped-out records)",
                      entry->package, entry->name);
    }
    return record.value();
}

Status ServiceRegistry::check_reserved(const UmkaServiceSlot* slot, const UmkaServiceRecord* record,
                                       const char* provider, Diagnostic& diagnostic) const {
    // reserve_swap checked the slot: it is the first member of its entry.
    static_assert(__builtin_offsetof(ServiceEntry, slot) == 0);
    const auto* entry = reinterpret_cast<const ServiceEntry*>(slot);
    if (record->interface_version < entry->required_minimum) {
        return refuse_minimum(*entry, provider, record->interface_version, diagnostic);
    }
    return Status::ok();
}

Result<const UmkaServiceRecord*> ServiceRegistry::commit_swap(UmkaServiceSlot* slot,
                                                              UmkaServiceRecord* record,
                                                              const char* provider,
                                                              Diagnostic& diagnostic) {
    TRY(check_reserved(slot, record, provider, diagnostic));
    auto* entry = reinterpret_cast<ServiceEntry*>(slot);
    const UmkaServiceRecord* old = load_record(slot);
    store_record(slot, record);  // the swap: one release store
    copy_name(entry->provider, kServiceNameSize, provider);
    return old;
}

Result<const UmkaServiceRecord*> ServiceRegistry::swap(UmkaServiceSlot* slot,
                                                       const ServiceProvider& provider,
                                                       Diagnostic& diagnostic) {
    Result<UmkaServiceRecord*> record = reserve_swap(slot, provider, diagnostic);
    TRY(record.status());
    return commit_swap(slot, record.value(), provider.provider, diagnostic);
}

Status ServiceRegistry::unpublish(UmkaServiceSlot* slot, Diagnostic& diagnostic) {
    ServiceEntry* entry = entry_for(slot);
    if (entry == nullptr) {
        return refuse(diagnostic, Errno::NotFound, "unpublish: not a slot of this registry");
    }
    if (entry->consumer_count > 0) {
        for (size_t index = 0; index < storage_.binding_capacity; ++index) {
            const ServiceBinding& binding = storage_.bindings[index];
            if (binding.in_use && &storage_.services[binding.service] == entry) {
                return refuse(diagnostic, Errno::Busy, "%s.%s from '%s' is in use by '%s'",
                              entry->package, entry->name, entry->provider, binding.consumer);
            }
        }
    }
    // Nobody is bound, so nobody holds the slot: the record can go back at once.
    const UmkaServiceRecord* record = load_record(slot);
    store_record(slot, nullptr);
    retire(record);
    entry->in_use = 0;
    return Status::ok();
}

size_t ServiceRegistry::service_count() const {
    size_t count = 0;
    for (size_t index = 0; index < storage_.service_capacity; ++index) {
        count += storage_.services[index].in_use;
    }
    return count;
}

size_t ServiceRegistry::free_record_count() const {
    size_t count = 0;
    for (uint32_t index = free_record_; index != kNoRecord;
         index = storage_.records[index].next_free) {
        ++count;
    }
    return count;
}

size_t ServiceRegistry::binding_count() const {
    size_t count = 0;
    for (size_t index = 0; index < storage_.binding_capacity; ++index) {
        count += storage_.bindings[index].in_use;
    }
    return count;
}

void ServiceRegistry::for_each_binding(void (*visit)(void* context,
                                                     const ServiceBindingView& binding),
                                       void* context) const {
    for (size_t index = 0; index < storage_.binding_capacity; ++index) {
        const ServiceBinding& binding = storage_.bindings[index];
        if (!binding.in_use) continue;
        const ServiceEntry& entry = storage_.services[binding.service];
        const UmkaServiceRecord* record = load_record(&entry.slot);
        visit(context,
              ServiceBindingView{binding.consumer, entry.provider, entry.package, entry.name,
                                 record ? record->interface_version : 0, binding.required_version,
                                 record ? record->transport : 0});
    }
}

}  // namespace umka::modules
