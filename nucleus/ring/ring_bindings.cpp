#include "nucleus/ring/ring_bindings.h"

#include <arch/cpu.h>

#include <new>

#include "nucleus/containment/containment.h"
#include "nucleus/introspection/introspection.h"
#include "nucleus/introspection/record_text.h"
#include "nucleus/lib/format.h"
#include "nucleus/lib/log.h"
#include "nucleus/lib/spinlock.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/mm/object_memory.h"
#include "nucleus/module/transport_choice.h"

namespace umka::loader {
namespace {

inline constexpr size_t kMaximumRingBindings = 64;
// Polls of the other end before a party sleeps: a round trip between two busy CPUs is a
// few microseconds, which spinning catches without the doorbell and the wake-up IPI.
inline constexpr uint32_t kSpinPolls = 2000;

// Every binding, in creation order (a slot is reused once its binding is closed). Written
// under table_lock; read by `rings` under it too.
constinit SpinLock table_lock{LockLevel::RingBindings};
constinit RingBinding* table[kMaximumRingBindings] = {};
// Closers wait here for provider threads to finish. Outside the bindings on purpose: the
// provider thread's last act is to wake it, after which the binding may already be freed.
constinit sched::WaitQueue providers_finished;

size_t party_index(ring::RingParty party) {
    return static_cast<size_t>(party);
}

bool not_sleeping(void* state) {
    return ring::load_sleep_state(static_cast<const uint32_t*>(state)) !=
           ring::SleepState::Sleeping;
}

void wait_on_queue(void* context, ring::RingParty sleeper, const uint32_t* state) {
    auto* signals = static_cast<KernelRingSignals*>(context);
    // The queue checks the word under its lock and wake() takes the same lock: futex
    // semantics, so a wake-up after the word changed is never lost.
    signals->queues[party_index(sleeper)].wait(not_sleeping, const_cast<uint32_t*>(state));
}

void wake_queue(void* context, ring::RingParty sleeper, uint32_t) {
    // The scheduler sends the reschedule IPI when the sleeper's CPU is another one.
    static_cast<KernelRingSignals*>(context)->queues[party_index(sleeper)].wake_all();
}

uint32_t this_cpu(void*) {
    return arch::current_cpu_index();
}

void copy_name(char* target, size_t capacity, const char* name) {
    size_t length = 0;
    while (name[length] != '\0' && length + 1 < capacity) ++length;
    __builtin_memcpy(target, name, length);
    target[length] = '\0';
}

bool is_closed(void* binding) {
    return static_cast<RingBinding*>(binding)->state.load(std::memory_order_acquire) ==
           RingBindingState::Closed;
}

struct SlotCall {
    ring::RingDispatch dispatch;
    const umka_kabi_ring_request* request;
    umka_kabi_ring_completion* completion;
};

void run_slot_call(void* argument) {
    auto* call = static_cast<SlotCall*>(argument);
    call->dispatch.dispatch(call->dispatch.context, *call->request, *call->completion);
}

// Each request runs with interrupts off, from the load of the provider's slot to the
// return of its method. A live swap's pause is an IPI rendezvous that a CPU joins only with
// interrupts on, so it falls between two requests, never inside one: every request is
// served entirely by one version of the provider, and the state the swap copies is not
// half-way through an update. Provider methods therefore must not sleep and must return
// within well under a millisecond (docs/rings.md, "One version per request").
//
// The request is a guarded call (docs/crash-containment.md): a fault the provider's code
// raises in it answers it with EIO, and this thread then reloads the provider (or waits
// for the thread that does), so the requests still queued go to the fresh instance. Once
// the provider failed (the restart policy), every request is answered with ENODEV.
void dispatch_with_interrupts_off(void* context, const umka_kabi_ring_request& request,
                                  umka_kabi_ring_completion& completion) {
    auto* binding = static_cast<RingBinding*>(context);
    if (binding->provider_failed.load(std::memory_order_relaxed)) {
        completion.status = UMKA_KABI_ENODEV;
        return;
    }
    SlotCall call{binding->dispatch.dispatcher(), &request, &completion};
    containment::ContainedFault fault;
    arch::InterruptState state = arch::save_and_disable_interrupts();
    Status served = containment::guarded_call(run_slot_call, &call, binding->provider, fault);
    arch::restore_interrupts(state);
    if (served.is_ok()) return;
    completion.status = UMKA_KABI_EIO;
    // A module that ends failed has its bindings marked by containment (mark_provider_failed).
    (void)containment::recover(fault);
}

int32_t serve_binding(uint64_t argument) {
    auto* binding = reinterpret_cast<RingBinding*>(argument);
    Status status = ring::run_provider(binding->provider_end,
                                       ring::RingDispatch{binding, dispatch_with_interrupts_off},
                                       kProviderBudget);
    if (status.is_error()) {
        log("ring: provider thread of %s -> %s.%s stopped: %s\n", binding->consumer,
            binding->adapter.package, binding->adapter.interface, errno_name(status.error()));
    }
    binding->state.store(RingBindingState::Closed, std::memory_order_release);
    providers_finished.wake_all();
    return status.is_ok() ? 0 : int32_t(status.error());
}

void free_binding(RingBinding* binding) {
    void* memory = binding->memory;
    binding->~RingBinding();
    free_object(memory);
    free_object(binding);
}

}  // namespace

void mark_provider_failed(const char* provider) {
    SpinLockGuard guard(table_lock);
    for (RingBinding* entry : table) {
        if (entry != nullptr && __builtin_strcmp(entry->provider, provider) == 0) {
            entry->provider_failed.store(true, std::memory_order_relaxed);
        }
    }
}

KernelRingSignals::KernelRingSignals() {
    signals.context = this;
    signals.wait = wait_on_queue;
    signals.wake = wake_queue;
    signals.current_cpu = this_cpu;
    signals.spin_polls = kSpinPolls;
}

RingBinding::RingBinding(ring::RingPair pair, const ring::RingAdapter& adapter_entry,
                         const UmkaServiceSlot* shared_slot, void* pair_memory, size_t bytes,
                         ring::CompletionHandler completions)
    : adapter(adapter_entry),
      provider_slot(shared_slot),
      memory(pair_memory),
      memory_bytes(bytes),
      caller(pair, &signals.signals, completions),
      provider_end(pair, &signals.signals),
      dispatch(shared_slot, adapter_entry.dispatch) {}

Result<RingBinding*> create_ring_binding(const RingBindingRequest& request) {
    modules::ServiceRegistry& registry = module_system().registry();
    UmkaServiceSlot* provider_slot =
        TRY(registry.find(request.package, request.interface, request.provider));
    const ring::RingAdapter* adapter = KernelRingAdapters::find(request.package, request.interface);
    if (adapter == nullptr) return Errno::NotFound;
    const modules::ServiceEntry* service = registry.entry_of(provider_slot);

    size_t bytes = ring::RingPair::bytes_for(kRingBindingEntries);
    void* pair_memory = TRY(allocate_object(bytes));
    Result<void*> binding_memory = allocate_object(sizeof(RingBinding));
    if (binding_memory.is_error()) {
        free_object(pair_memory);
        return binding_memory.error();
    }
    const char* reason = nullptr;
    Result<ring::RingPair> pair =
        ring::RingPair::create(pair_memory, bytes, kRingBindingEntries, &reason);
    if (pair.is_error()) {  // not reached: the size and count are ours
        log("ring: laying out a binding failed: %s\n", reason);
        free_object(pair_memory);
        free_object(binding_memory.value());
        return pair.error();
    }
    auto* binding = new (binding_memory.value())
        RingBinding(pair.value(), *adapter, provider_slot, pair_memory, bytes, request.completions);
    copy_name(binding->consumer, sizeof binding->consumer, request.consumer);
    copy_name(binding->provider, sizeof binding->provider,
              service != nullptr ? service->provider : "?");

    SpinLockGuard guard(table_lock);
    for (RingBinding*& entry : table) {
        if (entry == nullptr) {
            entry = binding;
            return binding;
        }
    }
    free_binding(binding);
    return Errno::NoSpace;
}

Status start_ring_binding(RingBinding& binding, sched::Placement placement, uint32_t cpu) {
    if (!sched::running()) return Errno::NoFunction;
    if (binding.state.load(std::memory_order_acquire) != RingBindingState::Prepared) {
        return Errno::InvalidArgument;
    }
    char name[24] = "ring:";
    copy_name(name + 5, sizeof name - 5, binding.consumer);
    binding.state.store(RingBindingState::Serving, std::memory_order_release);
    Result<sched::Task*> thread =
        sched::spawn(name, serve_binding, reinterpret_cast<uint64_t>(&binding), 0, placement, cpu);
    if (thread.is_error()) {
        binding.state.store(RingBindingState::Prepared, std::memory_order_release);
        return thread.error();
    }
    binding.thread = thread.value();
    binding.record = UmkaServiceRecord{
        static_cast<const umka_kabi_vtable_header*>(binding.adapter.vtable), &binding.caller,
        binding.adapter.interface_version, UMKA_KABI_TRANSPORT_RING};
    __atomic_store_n(&binding.slot.record, &binding.record, __ATOMIC_RELEASE);
    if (binding.consumer_entry != nullptr) {
        // The consumer loads its slot pointer per call: from the next call on it rings.
        __atomic_store_n(binding.consumer_entry, &binding.slot, __ATOMIC_RELEASE);
    }
    return Status::ok();
}

const UmkaServiceRecord* ring_binding_record(const RingBinding& binding) {
    return umka_service_slot_load(&binding.slot);
}

void close_ring_binding(RingBinding* binding) {
    if (binding->consumer_entry != nullptr) {
        __atomic_store_n(binding->consumer_entry, binding->provider_slot, __ATOMIC_RELEASE);
    }
    if (binding->state.load(std::memory_order_acquire) != RingBindingState::Prepared) {
        binding->caller.close();
        providers_finished.wait(is_closed, binding);
    }
    {
        SpinLockGuard guard(table_lock);
        for (RingBinding*& entry : table) {
            if (entry == binding) entry = nullptr;
        }
    }
    free_binding(binding);
}

void prepare_module_ring_bindings(ModuleRecord& record) {
    const modules::ManifestView& manifest = record.image.manifest_view;
    modules::ServiceRegistry& registry = module_system().registry();
    for (size_t index = 0; index < manifest.required_count(); ++index) {
        modules::InterfaceEntry needed = manifest.required(index);
        const UmkaServiceSlot** entry = &record.binding->required[index].slot;
        const modules::ServiceEntry* service = registry.entry_of(*entry);
        ModuleRecord* provider =
            service != nullptr ? module_system().loaded_named(service->provider) : nullptr;
        modules::BindingQuery query{
            record.tier,
            record.transport,
            &manifest,
            needed,
            provider != nullptr ? &provider->image.manifest_view : nullptr,
            KernelRingAdapters::find(needed.package, needed.name) != nullptr};
        modules::BindingChoice choice = modules::choose_binding_transport(query);
        if (choice.transport == modules::BindingTransport::Direct) {
            if (choice.reason != nullptr) {
                log("ring: %s -> %s.%s stays direct: %s\n", manifest.name(), needed.package,
                    needed.name, choice.reason);
            }
            // A tier-1 provider is reached through the nucleus's trampoline, which guards
            // each call and runs it in the provider's memory domain.
            __atomic_store_n(
                entry,
                containment::guarded_slot(manifest.name(), needed.package, needed.name, *entry),
                __ATOMIC_RELEASE);
            continue;
        }
        Result<RingBinding*> binding =
            create_ring_binding({manifest.name(), needed.package, needed.name, service->provider});
        if (binding.is_error()) {
            log("ring: %s -> %s.%s stays direct: no ring binding (%s)\n", manifest.name(),
                needed.package, needed.name, errno_name(binding.error()));
            continue;
        }
        binding.value()->consumer_entry = entry;
        log("ring: %s -> %s %s.%s over a ring of %u entries (starts with the scheduler)\n",
            manifest.name(), service->provider, needed.package, needed.name, kRingBindingEntries);
    }
}

void start_boot_ring_bindings() {
    for (size_t index = 0; index < kMaximumRingBindings; ++index) {
        RingBinding* binding;
        {
            SpinLockGuard guard(table_lock);
            binding = table[index];
        }
        if (binding == nullptr || binding->consumer_entry == nullptr ||
            binding->state.load(std::memory_order_acquire) != RingBindingState::Prepared) {
            continue;
        }
        Status started = start_ring_binding(*binding, sched::Placement::Anywhere, 0);
        if (started.is_ok()) {
            log("ring: %s -> %s %s.%s serving on thread %s\n", binding->consumer, binding->provider,
                binding->adapter.package, binding->adapter.interface, binding->thread->name);
        } else if (started.error() == Errno::NoFunction) {
            log("ring: %s -> %s.%s falls back to the direct record: no scheduler to run the "
                "provider thread\n",
                binding->consumer, binding->adapter.package, binding->adapter.interface);
        } else {
            log("ring: %s -> %s.%s falls back to the direct record: provider thread not "
                "started (%s)\n",
                binding->consumer, binding->adapter.package, binding->adapter.interface,
                errno_name(started.error()));
        }
    }
}

bool consumer_uses_ring(const char* consumer, const char* package, const char* interface) {
    SpinLockGuard guard(table_lock);
    for (RingBinding* binding : table) {
        if (binding != nullptr && binding->consumer_entry != nullptr &&
            binding->state.load(std::memory_order_acquire) == RingBindingState::Serving &&
            __builtin_strcmp(binding->consumer, consumer) == 0 &&
            __builtin_strcmp(binding->adapter.package, package) == 0 &&
            __builtin_strcmp(binding->adapter.interface, interface) == 0) {
            return true;
        }
    }
    return false;
}

bool provider_serves_ring(const char* provider) {
    SpinLockGuard guard(table_lock);
    for (RingBinding* binding : table) {
        if (binding != nullptr &&
            binding->state.load(std::memory_order_acquire) == RingBindingState::Serving &&
            __builtin_strcmp(binding->provider, provider) == 0) {
            return true;
        }
    }
    return false;
}

uint64_t ring_requests_outstanding(const UmkaServiceSlot* const* slots, size_t slot_count) {
    // Spin lock holders have interrupts off, so none of the CPUs stopped in the pause holds
    // table_lock: taking it here cannot wait for them.
    SpinLockGuard guard(table_lock);
    uint64_t outstanding = 0;
    for (RingBinding* binding : table) {
        if (binding == nullptr ||
            binding->state.load(std::memory_order_acquire) != RingBindingState::Serving) {
            continue;
        }
        for (size_t index = 0; index < slot_count; ++index) {
            if (slots[index] != binding->provider_slot) continue;
            ring::RingCounters counters = binding->caller.caller().pair().counters();
            outstanding += counters.submitted - counters.completed;
        }
    }
    return outstanding;
}

bool cpu_runs_ring_provider(uint32_t cpu) {
    SpinLockGuard guard(table_lock);
    for (RingBinding* binding : table) {
        if (binding != nullptr &&
            binding->state.load(std::memory_order_acquire) == RingBindingState::Serving &&
            binding->thread->cpu == cpu) {
            return true;
        }
    }
    return false;
}

uint32_t ring_slot_count() {
    return uint32_t(kMaximumRingBindings);
}

Status ring_record(uint32_t slot, kabi::introspection::RingRecord& record) {
    if (slot >= kMaximumRingBindings) return Errno::NotFound;
    SpinLockGuard guard(table_lock);
    RingBinding* binding = table[slot];
    if (binding == nullptr) return Errno::NotFound;
    record = kabi::introspection::RingRecord{};
    introspection::copy_text(record.consumer, binding->consumer);
    introspection::copy_text(record.provider, binding->provider);
    introspection::copy_text(record.package, binding->adapter.package);
    introspection::copy_text(record.interface, binding->adapter.interface);
    ring::RingCounters counters = binding->caller.caller().pair().counters();
    record.submitted = counters.submitted;
    record.completed = counters.completed;
    record.doorbells = counters.doorbells;
    record.full_waits = counters.full_ring_waits;
    record.entries = binding->caller.caller().capacity();
    RingBindingState state = binding->state.load(std::memory_order_acquire);
    record.state = state == RingBindingState::Prepared  ? 0
                   : state == RingBindingState::Serving ? 1
                                                        : 2;
    if (state == RingBindingState::Serving) {
        introspection::copy_text(record.provider_thread, binding->thread->name);
        record.provider_cpu = binding->thread->cpu;
    }
    return Status::ok();
}

}  // namespace umka::loader
