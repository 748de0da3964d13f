// Ring bindings in the kernel (docs/rings.md, "Kernel bindings"): a consumer's `requires`
// entry carried over a RingPair in nucleus memory instead of a direct call.
//
//   consumer  calls through a private service slot whose record is {the generated
//             <Interface>RingVtable adapter, this binding's caller end}: the same code as a
//             direct binding. Several threads of the consumer may call; each call holds the
//             binding's sleeping lock.
//   provider  a kernel thread runs run_provider(); its dispatch loads the provider's SHARED
//             service slot for every request, so a live swap of the provider (one store into
//             that slot) takes effect for requests already queued.
//   signals   one WaitQueue per party: a sleeping party blocks on its queue while its word
//             reads Sleeping; a wake-up wakes that queue (an IPI when the sleeper is on
//             another CPU, through the scheduler).
//
// Boot: bind() prepares a binding for every entry choose_binding_transport() picks for
// ring (the consumer keeps calling directly meanwhile); start_boot_ring_bindings(), a
// bring-up step after the scheduler starts, spawns the provider threads and switches each
// consumer entry to its ring slot. Without a scheduler they stay direct (logged).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>

#include "nucleus/bundle/boot_manifest.h"
#include "nucleus/console/text_output.h"
#include "nucleus/lib/status.h"
#include "nucleus/module/transport_choice.h"
#include "nucleus/ring/ring_adapters.h"
#include "nucleus/ring/ring_provider.h"
#include "nucleus/sched/scheduler.h"
#include "nucleus/sched/sleeping_lock.h"

namespace umka::loader {

struct ModuleRecord;

using KernelRingCaller = ring::SerialisedRingCaller<sched::SleepingLock>;
using KernelRingAdapters = ring::RingAdapterTable<sched::SleepingLock>;

// Entries per ring of a binding (a power of two): a synchronous caller has one request
// outstanding, so this only bounds asynchronous batches.
inline constexpr uint32_t kRingBindingEntries = 64;
// Requests the provider thread answers before it checks for preemption-friendly breaks.
inline constexpr uint32_t kProviderBudget = 64;

enum class RingBindingState : uint8_t {
    Prepared,  // memory laid out, consumer still direct
    Serving,   // provider thread running, consumer calls over the ring
    Closed,    // provider thread gone
};

// RingSignals for kernel threads: a party sleeps on its own WaitQueue.
struct KernelRingSignals {
    KernelRingSignals();
    sched::WaitQueue queues[2];  // indexed by ring::RingParty
    ring::RingSignals signals;
};

struct RingBinding {
    RingBinding(ring::RingPair pair, const ring::RingAdapter& adapter,
                const UmkaServiceSlot* provider_slot, void* memory, size_t memory_bytes,
                ring::CompletionHandler completions);

    char consumer[24] = {};
    char provider[24] = {};
    const ring::RingAdapter& adapter;
    const UmkaServiceSlot* provider_slot;  // the provider's shared slot
    // Handed to the consumer: its own slot, whose record names the adapter and the caller.
    UmkaServiceSlot slot{};
    UmkaServiceRecord record{};
    // Where the consumer's binding keeps the slot pointer of this `requires` entry (in its
    // module binding block), switched to &slot when the binding starts; nullptr for
    // bindings a module opened through nucleus_mechanism.Rings (rings_service.cpp).
    const UmkaServiceSlot** consumer_entry = nullptr;
    void* memory;  // the RingPair's frames
    size_t memory_bytes;
    KernelRingSignals signals;
    KernelRingCaller caller;
    ring::RingProvider provider_end;
    ring::SlotDispatch dispatch;
    sched::Task* thread = nullptr;
    std::atomic<RingBindingState> state{RingBindingState::Prepared};
    // Set when the provider crashed past its restart policy: requests get ENODEV.
    std::atomic<bool> provider_failed{false};
};

struct RingBindingRequest {
    const char* consumer;
    const char* package;
    const char* interface;
    const char* provider;  // module name, or nullptr for whichever published it first
    // For a consumer that submits asynchronously (caller.asynchronous_caller()); empty for
    // the proxy's synchronous calls.
    ring::CompletionHandler completions{};
};

// Lays out a binding to the provider of package.interface (not started). NotFound: no such
// provider or no adapter; NoSpace: the binding table or memory is exhausted.
Result<RingBinding*> create_ring_binding(const RingBindingRequest& request);
// Spawns the provider thread and makes the ring slot's record valid (and switches the
// consumer entry, if any). NoFunction without a scheduler.
Status start_ring_binding(RingBinding& binding, sched::Placement placement, uint32_t cpu);
// Closes the rings (callers then get EIO), waits for the provider thread to end, forgets
// the binding and frees its memory. The consumer must not call it any more.
void close_ring_binding(RingBinding* binding);

// The consumer-facing record of a started binding.
const UmkaServiceRecord* ring_binding_record(const RingBinding& binding);

// Boot: for each `requires` entry of a bound module that goes over a ring, prepare a
// binding (logged); entries that stay direct although a ring was asked say why.
void prepare_module_ring_bindings(ModuleRecord& record);
// Bring-up step after the scheduler: start the prepared bindings (or keep them direct).
void start_boot_ring_bindings();

// True while module `consumer` reaches package.interface over a started ring binding (for
// `services`, whose registry rows only know the provider's direct record).
bool consumer_uses_ring(const char* consumer, const char* package, const char* interface);

// True while module `provider` serves a started ring binding (its requests run guarded, in
// its memory domain when there are domains).
bool provider_serves_ring(const char* provider);

// Requests outstanding (submitted, completion not yet published) on the started bindings
// whose provider slot is one of `slots`. Called inside a live swap's pause, where no other
// CPU runs, so the count is exact: these requests are served by whatever the slots hold
// after the pause.
uint64_t ring_requests_outstanding(const UmkaServiceSlot* const* slots, size_t slot_count);

// Every binding served by the failed module `provider` answers ENODEV from now on, before
// any of its code runs (containment calls it when the module fails).
void mark_provider_failed(const char* provider);

// True when a started binding's provider thread was last placed on `cpu`.
bool cpu_runs_ring_provider(uint32_t cpu);

}  // namespace umka::loader
