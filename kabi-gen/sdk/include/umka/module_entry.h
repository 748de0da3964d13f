/* The module entry contract: how the nucleus hands a loaded module its state, the services
   it requires and the slots for the interfaces it provides. C11 and C++20; needs only
   <stdint.h>, <stddef.h> (and <type_traits> in C++), so it is freestanding-safe.
   docs/module-contract.md is the prose version of this file.

   A module exports exactly one symbol, umka_module_entry (default visibility, found through
   .dynsym). The nucleus calls it once per load with a binding it owns:

     UMKA_MODULE_ENTRY(binding) {
         if (!umka_module_binding_matches(binding, 2, 1, 1)) return UMKA_KABI_EINVAL;
         umka_module_set_start(binding, my_start);   (optional)
         return umka_module_provide(binding, 0, &my_vtable, binding);
     }

   Entry only exchanges vtables: it checks the binding and its state regions and fills in
   what the module provides. It calls no other service (during entry every required slot
   is empty, so umka_module_required returns NULL and bind_required ENOENT), because entry
   also runs for a swap that is only tried (evolve --dry-run) or that is then refused. What
   a module does with its services once it is live (log, spawn threads, talk to a device)
   goes in its start function, which the nucleus calls once the module is bound and
   committed: at boot after every boot module is bound and the scheduler runs, in load
   order; after a live swap once the pause is over; never for a dry run.

   Modules are stateless code. The binding, the arrays it points to, the state regions and
   the service slots are nucleus memory that stays put for as long as the module is loaded,
   so a module may (and usually does) pass `binding` itself as the context of the
   interfaces it provides: every call then reaches the state and the required services
   through the context argument. */
#ifndef UMKA_MODULE_ENTRY_H
#define UMKA_MODULE_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "umka/kabi/kabi_base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when a field changes meaning; fields are only ever appended, and binding_size
   tells a module how much of the structure this nucleus fills. */
#define UMKA_MODULE_ABI_VERSION 1u
#define UMKA_MODULE_ENTRY_SYMBOL "umka_module_entry"

/* What a service slot points at: one provider of one interface. Immutable once published;
   a swap publishes a new record instead of editing this one, so a caller that loaded the
   pointer sees a consistent (vtable, context, version) triple. */
typedef struct UmkaServiceRecord {
    const umka_kabi_vtable_header* vtable; /* the provider's vtable; starts with its header */
    void* context;                         /* first argument of every method */
    uint32_t interface_version;            /* == vtable->version, readable without the vtable */
    uint32_t transport;                    /* UMKA_KABI_TRANSPORT_DIRECT (ring: later) */
} UmkaServiceRecord;

/* A nucleus-owned slot through which callers reach a provider. `record` is accessed only
   with an acquire load (callers) and a release store (the nucleus: publish, live swap), so
   a call costs one atomic load and a swap is one store. Never NULL once the module that
   requires it has been bound. */
typedef struct UmkaServiceSlot {
    const UmkaServiceRecord* record;
} UmkaServiceSlot;

/* One manifest `requires` entry, bound. `capability` is the handle of this binding in the
   nucleus capability table (kernel_services.Capability); pass it back to the nucleus where
   an interface asks for a capability. */
typedef struct UmkaRequiredService {
    const UmkaServiceSlot* slot;
    uint64_t capability;
} UmkaRequiredService;

/* One manifest `provides` entry; the module fills it during umka_module_entry. `vtable`
   must point into the module's own (read-only after relocation) image and carry a header
   whose version is at least the manifest's. */
typedef struct UmkaProvidedInterface {
    const void* vtable;
    void* context;
} UmkaProvidedInterface;

/* How a state region came to hold what it holds. */
#define UMKA_STATE_ORIGIN_FRESH 0u   /* zero-filled, first load of this module */
#define UMKA_STATE_ORIGIN_CARRIED 1u /* kept from a previous instance (swap, restart) */

/* One manifest `states` entry: nucleus memory that outlives the module's code. */
typedef struct UmkaStateRegion {
    void* base;              /* at least 16-byte aligned */
    uint64_t size;           /* >= the manifest's size for this state */
    uint32_t schema_version; /* version of the data in the region (manifest version if fresh) */
    uint32_t origin;         /* UMKA_STATE_ORIGIN_* */
} UmkaStateRegion;

/* Live evolution (docs/evolution.md): how a replacement module takes over the state of the
   instance it replaces. The nucleus calls the new module's import function per state region
   that has a predecessor (the old instance's region with the same schema name), with
   UMKA_STATE_IMPORT_COMMIT into the region the new module will use: in the validate phase
   from a copy of the old bytes (a refusal abandons the swap and the old module keeps
   running), again just before the pause if the old bytes changed since, and inside the
   stop-the-world pause only if they changed once more. UMKA_STATE_IMPORT_DRY_RUN (into a
   scratch region) is for tools and tests. It must be a pure function of the old bytes (the
   nucleus keeps a result built from bytes equal to the final ones): no service calls, no
   locks, no allocation (every other CPU may be stopped). A module that sets no import function can
   only take over regions whose schema version is the one it declares; the nucleus then copies the
   bytes as they are. */
#define UMKA_STATE_IMPORT_DRY_RUN 0u
#define UMKA_STATE_IMPORT_COMMIT 1u

/* Why the old instance is being replaced. After a crash (docs/crash-containment.md) the
   replacement is loaded from the same file; its import may take over what the crashed
   instance held (devices, handles) and must expect the state to be mid-operation (a lock
   held, a request half done). A state it refuses then is replaced by fresh state. */
#define UMKA_STATE_IMPORT_CAUSE_EVOLVE 0u
#define UMKA_STATE_IMPORT_CAUSE_CRASH 1u

typedef struct UmkaStateImport {
    uint32_t state_index;        /* the new module's manifest `states` order */
    uint32_t old_schema_version; /* schema version of the bytes at old_base */
    const void* old_base;
    uint64_t old_size;
    void* new_base; /* zero-filled, at least the new manifest's size, 16-byte aligned */
    uint64_t new_size;
    uint32_t mode;  /* UMKA_STATE_IMPORT_DRY_RUN or _COMMIT */
    uint32_t cause; /* UMKA_STATE_IMPORT_CAUSE_* */
} UmkaStateImport;

/* Returns 0 or a positive errno (the module refuses the old state). */
typedef int32_t (*UmkaStateImportFunction)(const UmkaStateImport* import);

struct UmkaModuleBinding;
/* The module's start: called once after it is bound and committed (see the top of this
   file), with the same binding. Returns 0 or a positive errno; the nucleus reports a failed
   start with the binding's refusal text and the module stays bound (its services may
   already have callers). */
typedef int32_t (*UmkaModuleStartFunction)(struct UmkaModuleBinding* binding);

/* Capacity of UmkaModuleBinding.refusal, the NUL included. */
#define UMKA_MODULE_REFUSAL_SIZE 128u

typedef struct UmkaModuleBinding {
    uint32_t abi_version;    /* UMKA_MODULE_ABI_VERSION of the nucleus */
    uint32_t binding_size;   /* sizeof(UmkaModuleBinding) as the nucleus built it */
    uint32_t required_count; /* == manifest requires_count */
    uint32_t provided_count; /* == manifest provides_count */
    uint32_t state_count;    /* == manifest state_count */
    uint32_t reserved;
    const UmkaRequiredService* required; /* manifest `requires` order */
    UmkaProvidedInterface* provided;     /* manifest `provides` order; zeroed before entry */
    const UmkaStateRegion* states;       /* manifest `states` order */
    /* Appended in binding_size 56: set by the module during umka_module_entry (with
       umka_module_set_state_import) when it can import a predecessor's state. */
    UmkaStateImportFunction import_state;
    /* Appended in binding_size 192. `start`: set during umka_module_entry with
       umka_module_set_start. `refusal`: why entry or start returned an error, one line,
       NUL-terminated (umka_module_refuse); the nucleus prints it with the errno, since
       neither may log through kernel_services.Log during entry. */
    UmkaModuleStartFunction start;
    char refusal[UMKA_MODULE_REFUSAL_SIZE];
} UmkaModuleBinding;

/* Returns 0 (UMKA_KABI_OK) or a positive errno; any error refuses the load. */
typedef int32_t (*UmkaModuleEntryFunction)(UmkaModuleBinding* binding);

UMKA_KABI_STATIC_ASSERT(sizeof(UmkaServiceRecord) == 24, "service record size");
UMKA_KABI_STATIC_ASSERT(sizeof(UmkaServiceSlot) == 8, "service slot size");
UMKA_KABI_STATIC_ASSERT(sizeof(UmkaRequiredService) == 16, "required service size");
UMKA_KABI_STATIC_ASSERT(sizeof(UmkaProvidedInterface) == 16, "provided interface size");
UMKA_KABI_STATIC_ASSERT(sizeof(UmkaStateRegion) == 24, "state region size");
UMKA_KABI_STATIC_ASSERT(sizeof(UmkaModuleBinding) == 192, "module binding size");
UMKA_KABI_STATIC_ASSERT(sizeof(UmkaStateImport) == 48, "state import size");

/* Defines the entry point: UMKA_MODULE_ENTRY(binding) { ... }. Default visibility so it is
   in .dynsym even when the module is built with -fvisibility=hidden. */
#ifdef __cplusplus
#define UMKA_MODULE_EXPORT extern "C" __attribute__((visibility("default"), used))
#else
#define UMKA_MODULE_EXPORT __attribute__((visibility("default"), used))
#endif
#define UMKA_MODULE_ENTRY(binding_name) \
    UMKA_MODULE_EXPORT int32_t umka_module_entry(UmkaModuleBinding* binding_name)

/* The caller's hot path: one acquire load; pairs with the nucleus's release store so the
   record's fields are visible. The GCC/Clang builtin is used because C11 <stdatomic.h> is
   not available to C++20 and std::atomic is not available to C; both compile it to a
   plain load on x86-64. */
static inline const UmkaServiceRecord* umka_service_slot_load(const UmkaServiceSlot* slot) {
    return __atomic_load_n(&slot->record, __ATOMIC_ACQUIRE);
}

/* True when the nucleus filled at least this header's binding and the counts are the ones
   the module's own manifest declares (a mismatch means a binding built for another
   manifest). */
static inline int umka_module_binding_matches(const UmkaModuleBinding* binding,
                                              uint32_t required_count, uint32_t provided_count,
                                              uint32_t state_count) {
    return binding != NULL && binding->abi_version == UMKA_MODULE_ABI_VERSION &&
           binding->binding_size >= (uint32_t)sizeof(UmkaModuleBinding) &&
           binding->required_count == required_count && binding->provided_count == provided_count &&
           binding->state_count == state_count;
}

/* The record currently behind `requires` entry `index`, or NULL for a bad index. Load it
   per call (or per operation): never cache it across calls, or a live swap is missed. */
static inline const UmkaServiceRecord* umka_module_required(const UmkaModuleBinding* binding,
                                                            uint32_t index) {
    if (index >= binding->required_count) return NULL;
    return umka_service_slot_load(binding->required[index].slot);
}

/* Base of state region `index` if it holds at least `minimum_size` bytes, else NULL. */
static inline void* umka_module_state(const UmkaModuleBinding* binding, uint32_t index,
                                      uint64_t minimum_size) {
    if (index >= binding->state_count || binding->states[index].size < minimum_size) return NULL;
    return binding->states[index].base;
}

/* Fills `provides` entry `index`; UMKA_KABI_EINVAL for a bad index or a NULL vtable. */
static inline int32_t umka_module_provide(UmkaModuleBinding* binding, uint32_t index,
                                          const void* vtable, void* context) {
    if (index >= binding->provided_count || vtable == NULL) return UMKA_KABI_EINVAL;
    binding->provided[index].vtable = vtable;
    binding->provided[index].context = context;
    return UMKA_KABI_OK;
}

/* Registers the module's state import function (see UmkaStateImport); UMKA_KABI_EINVAL when
   the nucleus built a binding without the field (an older nucleus cannot evolve it). */
static inline int32_t umka_module_set_state_import(UmkaModuleBinding* binding,
                                                   UmkaStateImportFunction function) {
    if (binding->binding_size <
        (uint32_t)(offsetof(UmkaModuleBinding, import_state) + sizeof(UmkaStateImportFunction))) {
        return UMKA_KABI_EINVAL;
    }
    binding->import_state = function;
    return UMKA_KABI_OK;
}

/* Whether the nucleus built a binding holding the field that ends at `end` bytes. */
static inline int umka_module_binding_holds(const UmkaModuleBinding* binding, size_t end) {
    return binding->binding_size >= (uint32_t)end;
}

/* Registers the module's start function (see the top of this file); UMKA_KABI_EINVAL when
   the nucleus built a binding without the field. */
static inline int32_t umka_module_set_start(UmkaModuleBinding* binding,
                                            UmkaModuleStartFunction function) {
    if (!umka_module_binding_holds(
            binding, offsetof(UmkaModuleBinding, start) + sizeof(UmkaModuleStartFunction))) {
        return UMKA_KABI_EINVAL;
    }
    binding->start = function;
    return UMKA_KABI_OK;
}

/* Records why entry or start fails (the first `length` bytes of `text`, cut to fit) and
   returns `error`, so `return umka_module_refuse(binding, UMKA_KABI_EINVAL, "...", n);`
   both explains and refuses. */
static inline int32_t umka_module_refuse(UmkaModuleBinding* binding, int32_t error,
                                         const char* text, uint64_t length) {
    if (umka_module_binding_holds(
            binding, offsetof(UmkaModuleBinding, refusal) + UMKA_MODULE_REFUSAL_SIZE)) {
        uint64_t index = 0;
        for (; index < length && index + 1 < UMKA_MODULE_REFUSAL_SIZE && text[index] != '\0';
             ++index) {
            binding->refusal[index] = text[index];
        }
        binding->refusal[index] = '\0';
    }
    return error;
}

#ifdef __cplusplus
} /* extern "C" */

namespace umka::kabi {

// Binds a generated consumer Ref (e.g. kernel_services::LogRef) to whatever provider the
// slot holds right now: one acquire load, then the Ref's own header checks. ENOENT if
// nothing is published; the Ref's bind() status (EINVAL, or ENOSYS for an older provider
// of a strict interface) otherwise.
template <typename Ref>
Status bind_service(const UmkaServiceSlot* slot, Ref* out) {
    using Vtable = std::remove_cv_t<std::remove_pointer_t<decltype(Ref().vtable())>>;
    const UmkaServiceRecord* record = umka_service_slot_load(slot);
    if (record == nullptr) return UMKA_KABI_ENOENT;
    return Ref::bind(reinterpret_cast<const Vtable*>(record->vtable), record->context, out);
}

// The same for `requires` entry `index` of a binding; EINVAL for a bad index.
template <typename Ref>
Status bind_required(const UmkaModuleBinding* binding, uint32_t index, Ref* out) {
    if (index >= binding->required_count) return UMKA_KABI_EINVAL;
    return bind_service(binding->required[index].slot, out);
}

// State region `index` as a State, or nullptr when it is missing or smaller than State.
template <typename State>
State* module_state(const UmkaModuleBinding* binding, uint32_t index = 0) {
    return static_cast<State*>(umka_module_state(binding, index, sizeof(State)));
}

// For provider functions whose context is the binding (the recommended convention).
inline const UmkaModuleBinding* binding_of(void* context) {
    return static_cast<const UmkaModuleBinding*>(context);
}

}  // namespace umka::kabi
#endif

#endif /* UMKA_MODULE_ENTRY_H */
