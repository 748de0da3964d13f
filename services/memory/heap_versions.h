// What differs between the HeapState versions the kernel heap is built against.
//
// The same sources build kernel_heap.umod (kabi-idl/modules/memory_service.kabi, HeapState
// version 1) and kernel_heap-v2.umod (kabi-idl/versions/memory_service.kabi, version 2: the
// large_bytes_peak statistic). Each build sees only its own generated
// memory_service_state.hpp; the helpers below compile to nothing where a field does not
// exist, so the version-1 build is exactly the released heap.
#pragma once

#include <stdint.h>

#include "umka/kabi/kabi_base.h"
#include "umka/kabi/memory_service_state.hpp"
#include "umka/module_entry.h"

namespace umka::heap {

// After large_bytes grew: version 2 keeps its highest value (lock-free: many CPUs allocate).
template <typename State>
void note_large_bytes(State& state) {
    if constexpr (requires { state.large_bytes_peak; }) {
        uint64_t now = __atomic_load_n(&state.large_bytes, __ATOMIC_RELAXED);
        uint64_t peak = __atomic_load_n(&state.large_bytes_peak, __ATOMIC_RELAXED);
        while (now > peak && !__atomic_compare_exchange_n(&state.large_bytes_peak, &peak, now, true,
                                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        }
    } else {
        (void)state;
    }
}

// kabi-gen's import_heap_state calls this for `migrate from 1` (version-2 build only).
struct HeapMigrationHooks {
    // Version 2 appends to version 1, so the old bytes are the new prefix; the peak since
    // the heap started is not known, the current large_bytes is a lower bound of it.
    template <typename Old, typename New>
    static kabi::Status migrate_heap_state_from_v1(const Old& old_state, New& new_state) {
        static_assert(sizeof(Old) < sizeof(New), "version 2 appends to version 1");
        __builtin_memcpy(&new_state, &old_state, sizeof(Old));
        new_state.large_bytes_peak = old_state.large_bytes;
        return kabi::Status::ok();
    }
};

// The heap's UmkaStateImportFunction: the predecessor's HeapState in this build's schema (a
// newer one by its known prefix). Every address in it points into ModuleMemory regions the
// nucleus keeps, none into the state region, so the imported copy is the whole heap.
// EINVAL for bytes that are no HeapState of the claimed version, a metadata layout other
// than this module's, or size classes that differ from this build's (its objects would be
// misread). Pure: no log, no call, no lock (the predecessor is stopped or quiescent).
int32_t import_heap_state(const UmkaStateImport* import);

}  // namespace umka::heap
