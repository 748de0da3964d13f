#include "nucleus/interrupts/device_interrupts.h"

#include <arch/cpu.h>
#include <arch/interrupts.h>

#include <atomic>

#include "nucleus/containment/containment.h"
#include "nucleus/interrupts/storm_window.h"
#include "nucleus/lib/log.h"
#include "nucleus/lib/spinlock.h"
#include "nucleus/sched/code_scan.h"
#include "nucleus/sched/scheduler.h"
#include "nucleus/smp/cpu_table.h"
#include "nucleus/time/clock.h"
#include "umka/kabi/bus_access.hpp"
#include "umka/module_entry.h"

namespace umka::interrupts {
namespace {

enum class BindingState : uint8_t { Free, Bound, Stopping };

struct Binding {
    std::atomic<BindingState> state;
    uint32_t generation;
    uint32_t owner;
    const char* module;
    const UmkaServiceSlot* handler;
    uint64_t cookie;
    MaskedSource source;
    uint8_t vector;
    uint32_t cpu;
    std::atomic<uint64_t> delivered;
    // Handler runs that found nothing of their device's (IrqOutcome::NotMine).
    std::atomic<uint64_t> unhandled;
    // Interrupt-to-handler latency: the cycle counter when the interrupt found the binding
    // idle, and per handler start the time since then.
    std::atomic<uint64_t> raised_cycles;
    uint64_t latency_count;
    uint64_t latency_sum_ns;
    uint64_t latency_max_ns;
    // Set by the interrupt, cleared by the thread; the thread waits while it is 0.
    std::atomic<uint32_t> pending;
    // A driver's mask() holds the source masked across handler runs.
    std::atomic<uint32_t> held_masked;
    sched::WaitQueue wake;
    std::atomic<uint32_t> thread_done;
    // Set when the binding was stopped from its own thread (its handler's module failed and
    // was released there): the thread frees the binding as it leaves.
    std::atomic<uint32_t> free_on_exit;
    // Counted by the interrupt (one CPU, interrupts off: one writer); a storm leaves the
    // hold for the thread in `storm_hold_ns`.
    StormWindow storm{kStormLimit};
    std::atomic<uint64_t> storm_hold_ns;
};

struct Table {
    SpinLock lock{LockLevel::DeviceInterrupts};
    Binding bindings[kMaximumBindings]{};
    // Per CPU: vector - kFirstDeviceVector -> binding index + 1 (0: free). A vector number
    // is only unique on its CPU, so each CPU has the whole device range.
    std::atomic<uint8_t> by_vector[kMaximumInterruptCpus][arch::kDeviceVectorCount]{};
    std::atomic<uint64_t> delivered{0};
    std::atomic<uint64_t> spurious{0};
    std::atomic<uint64_t> unhandled{0};
    std::atomic<uint64_t> storms{0};
};

constinit Table table;

void set_masked(const MaskedSource& source, bool masked) {
    if (source.kind == SourceKind::Msi) return;  // nothing the nucleus can mask
    if (source.kind != SourceKind::MsixEntry) {
        arch::set_interrupt_line_masked(source.line, masked);
        return;
    }
    uint32_t control = *source.vector_control;
    *source.vector_control = masked ? (control | 1u) : (control & ~1u);
}

bool masked_while_handling(const MaskedSource& source) {
    return source.kind == SourceKind::MsixEntry || source.kind == SourceKind::LevelLine;
}

bool is_masked(const MaskedSource& source) {
    // A line's mask bit lives in its controller; the binding's own record says for lines.
    return source.kind == SourceKind::MsixEntry && (*source.vector_control & 1u) != 0;
}

bool nothing_pending(void* context) {
    return static_cast<Binding*>(context)->pending.load(std::memory_order_acquire) == 0;
}

// Calls the handler; after a storm (counted by the interrupt, storm_window.h) the source
// stays masked and the handler held for the rest of that second, the thread sleeping it out.
struct HandlerCall {
    kabi::bus_access::IrqHandlerRef handler;
    uint64_t cookie;
    kabi::bus_access::IrqOutcome outcome;
};

void call_handler(void* argument) {
    auto& call = *static_cast<HandlerCall*>(argument);
    call.outcome = call.handler.handle_interrupt(call.cookie);
}

// The slot is loaded, and the image it leads into noted on this thread, with interrupts
// off. A live swap's pause (an IPI rendezvous, taken only with interrupts on) then comes
// either before the load, and the handler is the new instance's, or after the note, and the
// pause sees this thread about to enter the old image and tries again (sched/code_scan.h).
// Between a bare load and the handler's first instruction the pause saw nothing: the old
// instance then ran on the state the swap had already carried over, and what a UART's
// handler drained from its FIFO went into a ring no one read (input typed while the serial
// driver restarted was lost).
kabi::Status load_handler(const Binding& binding, HandlerCall& call) {
    arch::InterruptState interrupts = arch::save_and_disable_interrupts();
    kabi::Status bound = kabi::bind_service(binding.handler, &call.handler);
    if (bound.is_ok()) sched::note_entering(reinterpret_cast<uint64_t>(call.handler.vtable()));
    arch::restore_interrupts(interrupts);
    return bound;
}

void run_handler(Binding& binding) {
    HandlerCall call{{}, binding.cookie, kabi::bus_access::IrqOutcome::Handled};
    if (load_handler(binding, call).is_error()) return;
    // The driver's code, guarded: a fault in it restarts the driver (this thread does it),
    // and the next interrupt finds the fresh instance behind the same handler slot.
    Status ran = containment::guarded_module_call(call_handler, &call, binding.owner,
                                                  containment::CrashPhase::Handler);
    sched::clear_entering();
    if (ran.is_ok() && call.outcome == kabi::bus_access::IrqOutcome::NotMine) {
        binding.unhandled.fetch_add(1, std::memory_order_relaxed);
        table.unhandled.fetch_add(1, std::memory_order_relaxed);
    }
    uint64_t hold_ns = binding.storm_hold_ns.exchange(0, std::memory_order_acq_rel);
    if (hold_ns != 0) {
        log("irq: %s vector %u: %u interrupts within a second; held for the rest of it\n",
            binding.module, unsigned(binding.vector), kStormLimit);
        sched::sleep_ns(hold_ns);
        // An edge or MSI that came meanwhile was lost or not handled: run once more.
        if (!masked_while_handling(binding.source)) {
            set_masked(binding.source, false);
            binding.pending.store(1, std::memory_order_release);
        }
    }
}

int32_t interrupt_thread(uint64_t argument) {
    Binding& binding = *reinterpret_cast<Binding*>(argument);
    for (;;) {
        binding.wake.wait([](void* context) { return !nothing_pending(context); }, &binding);
        if (binding.state.load(std::memory_order_acquire) != BindingState::Bound) break;
        binding.pending.store(0, std::memory_order_release);
        uint64_t raised = binding.raised_cycles.exchange(0, std::memory_order_acq_rel);
        if (raised != 0) {
            uint64_t latency = clock::cycles_to_nanoseconds(arch::read_cycle_counter() - raised);
            ++binding.latency_count;
            binding.latency_sum_ns += latency;
            if (latency > binding.latency_max_ns) binding.latency_max_ns = latency;
        }
        run_handler(binding);
        if (binding.state.load(std::memory_order_acquire) == BindingState::Bound &&
            binding.held_masked.load(std::memory_order_acquire) == 0 &&
            masked_while_handling(binding.source)) {
            set_masked(binding.source, false);
        }
    }
    binding.thread_done.store(1, std::memory_order_release);
    if (binding.free_on_exit.load(std::memory_order_acquire) != 0) {
        binding.state.store(BindingState::Free, std::memory_order_release);
    }
    return 0;
}

Binding* live(uint64_t handle, uint32_t owner) {
    uint32_t index = uint32_t(handle & 0xFFFFFFFFu);
    if (index == 0 || index > kMaximumBindings) return nullptr;
    Binding& binding = table.bindings[index - 1];
    if (binding.state.load(std::memory_order_acquire) != BindingState::Bound ||
        binding.generation != uint32_t(handle >> 32) || binding.owner != owner) {
        return nullptr;
    }
    return &binding;
}

}  // namespace

Result<BoundVector> bind(const BindingRequest& request) {
    if (!sched::running()) return Errno::NoFunction;
    Binding* binding = nullptr;
    uint32_t index = 0;
    uint8_t slot = 0;
    {
        SpinLockGuard guard(table.lock);
        for (index = 0; index < kMaximumBindings; ++index) {
            if (table.bindings[index].state.load(std::memory_order_acquire) == BindingState::Free)
                break;
        }
        if (request.cpu >= kMaximumInterruptCpus) return Errno::NoSpace;
        while (slot < arch::kDeviceVectorCount &&
               table.by_vector[request.cpu][slot].load(std::memory_order_relaxed) != 0) {
            ++slot;
        }
        if (index == kMaximumBindings || slot == arch::kDeviceVectorCount) return Errno::NoSpace;
        binding = &table.bindings[index];
        binding->generation += 1;
        binding->owner = request.owner;
        binding->module = request.module;
        binding->handler = request.handler;
        binding->cookie = request.cookie;
        binding->source = request.source;
        binding->vector = uint8_t(arch::kFirstDeviceVector + slot);
        binding->cpu = request.cpu;
        binding->delivered.store(0, std::memory_order_relaxed);
        binding->unhandled.store(0, std::memory_order_relaxed);
        binding->raised_cycles.store(0, std::memory_order_relaxed);
        binding->latency_count = 0;
        binding->latency_sum_ns = 0;
        binding->latency_max_ns = 0;
        binding->pending.store(0, std::memory_order_relaxed);
        binding->held_masked.store(0, std::memory_order_relaxed);
        binding->thread_done.store(0, std::memory_order_relaxed);
        binding->free_on_exit.store(0, std::memory_order_relaxed);
        binding->storm = StormWindow(kStormLimit);
        binding->storm_hold_ns.store(0, std::memory_order_relaxed);
        set_masked(binding->source, true);
        binding->state.store(BindingState::Bound, std::memory_order_release);
        table.by_vector[request.cpu][slot].store(uint8_t(index + 1), std::memory_order_release);
    }
    char name[24] = "irq:";
    for (uint32_t at = 0; at < 18 && request.module[at] != '\0' && request.module[at] != '.';
         ++at) {
        name[4 + at] = request.module[at];
    }
    Result<sched::Task*> thread =
        sched::spawn(name, interrupt_thread, reinterpret_cast<uint64_t>(binding), -5,
                     sched::Placement::Pinned, request.cpu);
    if (thread.is_error()) {
        SpinLockGuard guard(table.lock);
        table.by_vector[request.cpu][slot].store(0, std::memory_order_release);
        binding->state.store(BindingState::Free, std::memory_order_release);
        return thread.error();
    }
    return BoundVector{uint64_t(binding->generation) << 32 | (index + 1), binding->vector};
}

namespace {

// Under the table lock: masks the source and takes the vector away.
void begin_stop(Binding& binding) {
    set_masked(binding.source, true);
    table.by_vector[binding.cpu][binding.vector - arch::kFirstDeviceVector].store(
        0, std::memory_order_release);
    binding.state.store(BindingState::Stopping, std::memory_order_release);
}

// Outside the lock: ends the binding's thread and frees the binding.
void finish_stop(Binding& binding) {
    sched::Task* self = sched::current_task();
    if (self != nullptr && self->entry == interrupt_thread &&
        self->argument == reinterpret_cast<uint64_t>(&binding)) {
        // Its own thread, recovering a handler's crash that failed the module: it cannot
        // wait for itself. It leaves its loop on return (the binding is no longer Bound).
        binding.free_on_exit.store(1, std::memory_order_release);
        binding.pending.store(1, std::memory_order_release);
        return;
    }
    binding.pending.store(1, std::memory_order_release);
    binding.wake.wake_all();
    while (binding.thread_done.load(std::memory_order_acquire) == 0) sched::yield();
    binding.state.store(BindingState::Free, std::memory_order_release);
}

}  // namespace

Status unbind(uint64_t handle, uint32_t owner) {
    Binding* binding = nullptr;
    {
        SpinLockGuard guard(table.lock);
        binding = live(handle, owner);
        if (binding == nullptr) return Errno::InvalidArgument;
        begin_stop(*binding);
    }
    finish_stop(*binding);
    return Status::ok();
}

size_t release_owner(uint32_t owner) {
    size_t released = 0;
    for (Binding& binding : table.bindings) {
        {
            SpinLockGuard guard(table.lock);
            if (binding.state.load(std::memory_order_acquire) != BindingState::Bound ||
                binding.owner != owner) {
                continue;
            }
            begin_stop(binding);
        }
        finish_stop(binding);
        ++released;
    }
    return released;
}

Status mask(uint64_t handle, uint32_t owner) {
    Binding* binding = live(handle, owner);
    if (binding == nullptr) return Errno::InvalidArgument;
    binding->held_masked.store(1, std::memory_order_release);
    set_masked(binding->source, true);
    return Status::ok();
}

Status unmask(uint64_t handle, uint32_t owner) {
    Binding* binding = live(handle, owner);
    if (binding == nullptr) return Errno::InvalidArgument;
    binding->held_masked.store(0, std::memory_order_release);
    // While the handler runs (pending taken, thread not yet back) the thread unmasks.
    set_masked(binding->source, false);
    return Status::ok();
}

Result<BindingTarget> target(uint64_t handle, uint32_t owner) {
    SpinLockGuard guard(table.lock);
    Binding* binding = live(handle, owner);
    if (binding == nullptr) return Errno::InvalidArgument;
    return BindingTarget{binding->cpu, binding->vector, binding->source.kind};
}

size_t transfer(uint32_t from_owner, uint32_t to_owner) {
    SpinLockGuard guard(table.lock);
    size_t moved = 0;
    for (Binding& binding : table.bindings) {
        if (binding.state.load(std::memory_order_acquire) == BindingState::Bound &&
            binding.owner == from_owner) {
            binding.owner = to_owner;
            ++moved;
        }
    }
    return moved;
}

Counters counters() {
    return Counters{table.delivered.load(std::memory_order_relaxed),
                    table.spurious.load(std::memory_order_relaxed),
                    table.storms.load(std::memory_order_relaxed),
                    table.unhandled.load(std::memory_order_relaxed)};
}

bool binding_view(uint32_t index, BindingView* view) {
    SpinLockGuard guard(table.lock);
    for (Binding& binding : table.bindings) {
        if (binding.state.load(std::memory_order_acquire) != BindingState::Bound) continue;
        if (index-- != 0) continue;
        uint64_t average =
            binding.latency_count == 0 ? 0 : binding.latency_sum_ns / binding.latency_count;
        *view = BindingView{
            binding.module,
            binding.cookie,
            binding.delivered.load(std::memory_order_relaxed),
            binding.unhandled.load(std::memory_order_relaxed),
            average,
            binding.latency_max_ns,
            binding.cpu,
            binding.vector,
            is_masked(binding.source) || binding.held_masked.load(std::memory_order_relaxed) != 0};
        return true;
    }
    return false;
}

void on_device_vector(uint8_t vector) {
    uint32_t cpu = cpu_table().current().index;
    if (cpu >= kMaximumInterruptCpus) {
        table.spurious.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    uint8_t entry =
        table.by_vector[cpu][vector - arch::kFirstDeviceVector].load(std::memory_order_acquire);
    if (entry == 0) {
        table.spurious.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    Binding& binding = table.bindings[entry - 1];
    table.delivered.fetch_add(1, std::memory_order_relaxed);
    binding.delivered.fetch_add(1, std::memory_order_relaxed);
    uint64_t hold_ns = binding.storm.count(sched::now_ns());
    if (hold_ns != 0) {
        table.storms.fetch_add(1, std::memory_order_relaxed);
        set_masked(binding.source, true);  // an edge line too: held, edges lost meanwhile
        binding.storm_hold_ns.store(hold_ns, std::memory_order_release);
    } else if (masked_while_handling(binding.source)) {
        set_masked(binding.source, true);
    }
    uint64_t idle = 0;
    (void)binding.raised_cycles.compare_exchange_strong(idle, arch::read_cycle_counter(),
                                                        std::memory_order_acq_rel);
    binding.pending.store(1, std::memory_order_release);
    // Allowed: when the policy says the handler thread goes first, this CPU switches to it
    // on the way out of the interrupt (already acknowledged, like the timer's), instead of
    // at its next tick — milliseconds for an idle CPU.
    binding.wake.wake(1, sched::LocalPreemption::Allowed);
}

}  // namespace umka::interrupts
