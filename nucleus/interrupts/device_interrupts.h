// Modules' device interrupts: each binding owns one vector of its CPU's device range
// (arch/interrupts.h; every CPU has its own), and one nucleus thread that calls the module's
// bus_access.IrqHandler. The interrupt itself only masks its source, counts and wakes that
// thread; the source stays masked until the handler has returned, so a driver's handler
// never runs twice at once and a device cannot interrupt faster than its handler runs.
//
// Storms: kStormLimit interrupts of one binding within one second (counted as they arrive)
// and the source stays masked, its handler held, for the rest of that second (counted and
// logged); the rest of the system goes on. A vector with no binding is counted as spurious,
// a handler that found nothing of its device's (IrqOutcome::NotMine) as unhandled; neither
// is fatal.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"

struct UmkaServiceSlot;

namespace umka::interrupts {

inline constexpr uint32_t kMaximumBindings = 32;
// CPUs that take device interrupts (each with the whole device vector range of its own).
inline constexpr uint32_t kMaximumInterruptCpus = 64;
inline constexpr uint32_t kStormLimit = 20000;  // interrupts per binding per second

// How the nucleus masks a source. An MSI-X entry (its vector-control word, bit 0) and a
// level-triggered line are masked from the interrupt until the handler returns (MSI-X keeps
// what arrives meanwhile pending; a level line is still asserted at unmask). An
// edge-triggered line is never masked for that, since an edge that comes while it is masked
// is lost: an interrupt during the handler runs the handler again instead.
// A plain MSI without per-vector masking cannot be masked by the nucleus at all: like an
// edge line it is never masked for the handler, and in a storm only its handler is held.
enum class SourceKind : uint8_t { MsixEntry, LevelLine, EdgeLine, Msi };
struct MaskedSource {
    SourceKind kind;
    volatile uint32_t* vector_control;  // MsixEntry
    uint32_t line;                      // LevelLine, EdgeLine
};

struct BindingRequest {
    uint32_t owner;                  // the module instance (capability owner)
    const char* module;              // its file name, for the log
    const UmkaServiceSlot* handler;  // its bus_access.IrqHandler
    uint64_t cookie;                 // passed to handle_interrupt
    MaskedSource source;
    uint32_t cpu;  // CPU index the vector is delivered to
};

struct BoundVector {
    uint64_t handle;  // generation << 32 | (index + 1)
    uint8_t vector;
};

// Takes a free binding and a free vector of `request.cpu` and starts the binding's thread,
// pinned to that CPU; the source is left masked (the caller programs it, then calls
// unmask()). ENOSPC: no vector on that CPU or no binding left; ENOSYS: no scheduler.
Result<BoundVector> bind(const BindingRequest& request);
// Masks the source, stops the thread and frees the vector. EINVAL: not a live handle of
// `owner`.
Status unbind(uint64_t handle, uint32_t owner);
Status mask(uint64_t handle, uint32_t owner);
// The CPU and vector of a live binding of `owner` (for the MSI message). EINVAL otherwise.
struct BindingTarget {
    uint32_t cpu;
    uint8_t vector;
    SourceKind kind;
};
Result<BindingTarget> target(uint64_t handle, uint32_t owner);
Status unmask(uint64_t handle, uint32_t owner);
// Live swap: bindings of `from_owner` are `to_owner`'s (the handler slot is the same).
size_t transfer(uint32_t from_owner, uint32_t to_owner);
// A module that failed (crash containment): every binding of `owner` is unbound (its
// source masked); how many. Thread context.
size_t release_owner(uint32_t owner);

struct Counters {
    uint64_t delivered;  // interrupts taken on bound vectors
    uint64_t spurious;   // on a device vector with no binding
    uint64_t storms;     // seconds in which a binding passed kStormLimit
    uint64_t unhandled;  // handler runs that answered IrqOutcome::NotMine
};
Counters counters();

// The `index`-th live binding, for introspection; false past the last.
struct BindingView {
    const char* module;
    uint64_t cookie;
    uint64_t delivered;
    uint64_t unhandled;
    // From the interrupt to its handler's start (the binding's thread woken and run).
    uint64_t latency_average_ns;
    uint64_t latency_max_ns;
    uint32_t cpu;
    uint8_t vector;
    bool masked;
};
bool binding_view(uint32_t index, BindingView* view);

// Called by arch's trap dispatch for a device vector (interrupts off, already
// acknowledged).
void on_device_vector(uint8_t vector);

}  // namespace umka::interrupts
