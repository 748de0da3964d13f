// The nucleus's service registry: one service slot per published (interface, provider),
// and the list of bindings (consumer → provider, interface, version, transport) that the
// console's `services` command prints.
//
// A slot (UmkaServiceSlot, module_entry.h) holds an atomic pointer to an immutable record
// {vtable, context, interface version, transport}. Callers reach the provider with one
// acquire load; publish and swap are one release store each. A swapped-out record stays
// valid until the caller hands it back with retire(), which it does only after every CPU
// has passed a quiescent point (the evolution protocol's rendezvous), so a caller that
// loaded the old pointer just before the swap still reads a consistent record.
//
// Writer side (publish, bind, swap, retire, unpublish, unbind_consumer and the listing) is
// serialised by the caller (the nucleus's module lock); slot loads are lock-free.
// Storage comes from the caller; lookups by name are linear (tens of services, never on
// a call path: callers keep the slot pointer).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"
#include "nucleus/module/diagnostic.h"
#include "umka/kabi/kabi_base.h"
#include "umka/module_entry.h"

namespace umka::modules {

inline constexpr size_t kServiceNameSize = UMKA_KABI_NAME_SIZE;
// The provider name the nucleus publishes its own services under.
inline constexpr const char kNucleusProviderName[] = "nucleus";

struct ServiceEntry {
    UmkaServiceSlot slot;  // first, so a slot pointer identifies its entry
    char package[kServiceNameSize];
    char name[kServiceNameSize];
    char provider[kServiceNameSize];
    uint32_t required_minimum;  // highest minimum version among its consumers
    uint32_t consumer_count;
    uint8_t in_use;
};

struct ServiceRecordCell {
    UmkaServiceRecord record;
    uint32_t next_free;
    uint8_t in_use;
};

struct ServiceBinding {
    char consumer[kServiceNameSize];
    uint32_t consumer_id;  // the module instance (two instances may share a name mid-swap)
    uint32_t service;      // index of the ServiceEntry
    uint32_t required_version;
    uint8_t in_use;
};

struct ServiceRegistryStorage {
    ServiceEntry* services;
    size_t service_capacity;
    ServiceRecordCell* records;  // at least service_capacity, plus one per swap in flight
    size_t record_capacity;
    ServiceBinding* bindings;
    size_t binding_capacity;
};

// What publish and swap install.
struct ServiceProvider {
    const char* provider;  // module name (kNucleusProviderName for the nucleus)
    const umka_kabi_vtable_header* vtable;
    void* context;
    uint32_t declared_version;  // the manifest's provides version: the vtable must reach it
};

// One row of `services`.
struct ServiceBindingView {
    const char* consumer;
    const char* provider;
    const char* package;
    const char* name;
    uint32_t provider_version;  // what the slot holds now
    uint32_t required_version;
    uint32_t transport;
};

class ServiceRegistry {
public:
    explicit ServiceRegistry(const ServiceRegistryStorage& storage);

    // Creates the slot of (package.name, provider) and stores the first record.
    // EINVAL: malformed vtable header or version below the declared one (reason says);
    // EEXIST: already published; ENOSPC: no slot or record left.
    Result<UmkaServiceSlot*> publish(const char* package, const char* name,
                                     const ServiceProvider& provider, Diagnostic& diagnostic);

    // The slot of package.name from `provider`, or from any provider when provider is
    // nullptr (the first published). ENOENT when none.
    Result<UmkaServiceSlot*> find(const char* package, const char* name,
                                  const char* provider) const;

    // The `position`-th slot (0-based, registry order) of package.name whose provider
    // serves at least `minimum_version`, from any provider. ENOENT when there are fewer.
    Result<UmkaServiceSlot*> find_provider(const char* package, const char* name, size_t position,
                                           uint32_t minimum_version) const;

    // Records that module instance `consumer_id` (named `consumer`) calls through `slot`
    // needing at least `required_version` (once: binding again raises the version). ENOENT: not a
    // slot of this registry; EINVAL: the slot's provider is older (reason says); ENOSPC: no binding
    // left.
    Status bind(const char* consumer, uint32_t consumer_id, const UmkaServiceSlot* slot,
                uint32_t required_version, Diagnostic& diagnostic);
    // Forgets every binding of `consumer_id` (its module was unloaded or failed to bind).
    void unbind_consumer(uint32_t consumer_id);

    // Live swap: installs a new record with one release store and returns the old one,
    // which the caller retires after quiescence. EINVAL when the new vtable is malformed
    // or older than a consumer requires (reason names the consumer); ENOSPC when no record
    // is free.
    Result<const UmkaServiceRecord*> swap(UmkaServiceSlot* slot, const ServiceProvider& provider,
                                          Diagnostic& diagnostic);
    // The same swap in two steps, so that only the store happens inside an evolution's
    // pause: reserve_swap makes every check and takes the new record; commit_swap re-checks
    // the consumers' minimum (one may have bound since) and stores it; an unused
    // reservation goes back with retire().
    Result<UmkaServiceRecord*> reserve_swap(const UmkaServiceSlot* slot,
                                            const ServiceProvider& provider,
                                            Diagnostic& diagnostic);
    Result<const UmkaServiceRecord*> commit_swap(UmkaServiceSlot* slot, UmkaServiceRecord* record,
                                                 const char* provider, Diagnostic& diagnostic);
    // commit_swap's check alone, without a search (reserve_swap checked the slot).
    Status check_reserved(const UmkaServiceSlot* slot, const UmkaServiceRecord* record,
                          const char* provider, Diagnostic& diagnostic) const;
    void retire(const UmkaServiceRecord* record);

    // Removes a slot nobody is bound to (a failed bind, an unload). EBUSY names a consumer.
    Status unpublish(UmkaServiceSlot* slot, Diagnostic& diagnostic);

    size_t service_count() const;
    size_t free_record_count() const;
    size_t binding_count() const;
    // Visits bindings in the order they were made (writer side).
    void for_each_binding(void (*visit)(void* context, const ServiceBindingView& binding),
                          void* context) const;
    const ServiceEntry* entry_of(const UmkaServiceSlot* slot) const;

private:
    ServiceEntry* entry_for(const UmkaServiceSlot* slot) const;
    Result<UmkaServiceRecord*> take_record(const ServiceProvider& provider);
    Status refuse_minimum(const ServiceEntry& entry, const char* provider, uint32_t version,
                          Diagnostic& diagnostic) const;

    ServiceRegistryStorage storage_;
    uint32_t free_record_ = 0xffffffff;
};

// Header checks shared with the binder: a whole header, whole pointer slots, version >= 1
// and >= `declared_version`. Returns the reason or nullptr when the header is acceptable.
const char* vtable_header_problem(const umka_kabi_vtable_header* header, uint32_t declared_version);

}  // namespace umka::modules
