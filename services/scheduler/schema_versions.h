// What differs between the schema versions the scheduler module is built against.
//
// The same sources build scheduler.umod (kabi-idl/modules/scheduler.kabi: TaskState and
// SchedulerGlobals version 1) and scheduler-v2.umod (kabi-idl/versions/scheduler.kabi:
// both version 2); each build sees only its own generated scheduler_state.hpp. Code that
// touches a field only version 2 has goes through the helpers below, which compile to
// nothing (or to version 1's constant behaviour) when the field does not exist, so the
// version-1 build is exactly the released module.
//
// Version 2 only appends fields and keeps every version-1 field with its version-1 meaning
// (README.md, "Versions"): a version-1 module that takes a version-2 array back keeps the
// prefix it knows and loses nothing it uses.
#pragma once

#include <stdint.h>

#include "eevdf.h"
#include "umka/kabi/scheduler_state.hpp"

namespace umka::scheduler_module {

namespace schema = kabi::scheduler;

// Bounds of a version-2 per-task slice (Linux bounds sched_base_slice alike).
inline constexpr uint64_t kMinimumSliceNs = 100'000;
inline constexpr uint64_t kMaximumSliceNs = 100'000'000;

// The task's request in real ns: version 2 keeps it per task, version 1 uses the base slice.
template <typename State>
uint64_t slice_of(const State& state) {
    if constexpr (requires { state.slice_ns; }) {
        return state.slice_ns;
    } else {
        return eevdf::kBaseSliceNs;
    }
}

// A task slot comes into use.
template <typename State>
void initialise_version_fields(State& state) {
    if constexpr (requires { state.slice_ns; }) state.slice_ns = eevdf::kBaseSliceNs;
}

// The task became runnable from blocked.
template <typename State>
void count_wake(State& state) {
    if constexpr (requires { state.wake_count; }) state.wake_count += 1;
}

// Whether the version-specific fields of a task in use hold possible values (a slice of
// zero would give the task a deadline at its runtime: never a request).
template <typename State>
bool version_fields_valid(const State& state) {
    if constexpr (requires { state.slice_ns; }) {
        return state.slice_ns >= kMinimumSliceNs && state.slice_ns <= kMaximumSliceNs;
    } else {
        (void)state;
        return true;
    }
}

// The hooks kabi-gen's import_task_state calls for `migrate from 1` (version-2 build only;
// the version-1 schema declares no hook, so the template is never instantiated there).
struct MigrationHooks {
    // Version 1 -> 2: version 2 appends to version 1's layout, so the old bytes are the new
    // prefix; the per-task slice becomes explicit (the base slice every version-1 deadline
    // was computed with), and no wake-up was counted. A free slot stays all zero.
    template <typename Old, typename New>
    static kabi::Status migrate_task_state_from_v1(const Old& old_state, New& new_state) {
        static_assert(sizeof(Old) < sizeof(New), "version 2 appends to version 1");
        __builtin_memcpy(&new_state, &old_state, sizeof(Old));
        if (old_state.run_state != 0) new_state.slice_ns = eevdf::kBaseSliceNs;
        new_state.wake_count = 0;
        return kabi::Status::ok();
    }
};

// The schema versions of the arrays a SchedulerGlobals was attached to. Version-1 globals
// only ever described version-1 arrays; version 2 records them. 0: not known (globals of a
// newer module, whose extra fields this build cannot read).
struct ArrayVersions {
    uint32_t run_queue = 0;
    uint32_t task = 0;
};

template <typename Globals>
ArrayVersions array_versions_of(const Globals& globals, uint32_t globals_version) {
    if (globals_version == 1) return ArrayVersions{1, 1};
    if constexpr (requires { globals.task_state_version; }) {
        if (globals_version <= schema::scheduler_globals_version) {
            return ArrayVersions{globals.run_queue_state_version, globals.task_state_version};
        }
    }
    return ArrayVersions{};
}

// attach records this build's array versions where the schema has room for them.
template <typename Globals>
void record_array_versions(Globals& globals, ArrayVersions versions) {
    if constexpr (requires { globals.task_state_version; }) {
        globals.run_queue_state_version = versions.run_queue;
        globals.task_state_version = versions.task;
    } else {
        (void)globals;
        (void)versions;
    }
}

inline ArrayVersions own_array_versions() {
    return ArrayVersions{schema::run_queue_state_version, schema::task_state_version};
}

}  // namespace umka::scheduler_module
