// Task slots: the nucleus's task records and the policy's per-task states, grown when every
// slot is in use.
//
// Records live in chunks that never move (a Task* stays valid while the table grows; wait
// queues, run queues and handles hold them). The policy's task states are one array the
// policy indexes by slot; growing it means a larger zeroed copy handed over with `attach`
// (services/scheduler/README.md §1), which must see no policy call in between: the copy and
// the attach run in a HoldUntilReleased rendezvous, with every other CPU stopped and
// interrupts off here, so no run-queue lock is held and no policy call is under way.

#include <atomic>
#include <new>

#include "nucleus/lib/log.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/sched/scheduler_internal.h"
#include "nucleus/smp/rendezvous.h"

namespace umka::sched::detail {
namespace {

// At most this many chunks (each the start-up size): 64 slots per CPU at start, up to
// 64 times that.
constexpr uint32_t kMaximumChunks = 64;

constinit Task* chunks[kMaximumChunks] = {};
constinit uint32_t slots_per_chunk = 0;
constinit std::atomic<uint32_t> capacity{0};
// One grower at a time; the others wait for it and look again.
constinit std::atomic<bool> growing{false};

void initialize_chunk(Task* chunk, uint32_t first_slot) {
    for (uint32_t index = 0; index < slots_per_chunk; ++index) {
        chunk[index].slot = first_slot + index;
        // Zero-filled memory: the queue's lock gets its level here.
        new (&chunk[index].exit_waiters) WaitQueue();
        chunk[index].generation.store(1, std::memory_order_relaxed);
    }
}

struct Growth {
    Task* chunk;
    void* task_states;  // the larger policy array
    void* replaced;     // the array it replaced (read inside the pause)
    uint64_t old_bytes;
    uint64_t new_bytes;
    Status status;
};

// Every other CPU is stopped and this one has interrupts off.
void attach_larger(void* argument) {
    auto* growth = static_cast<Growth*>(argument);
    PolicyMemory& arrays = internal::policy_memory;
    if (arrays.task_bytes != growth->old_bytes) {
        // The policy was replaced since the sizes were taken (another task-state size).
        growth->status = Errno::TryAgain;
        return;
    }
    __builtin_memcpy(growth->task_states, arrays.tasks, growth->old_bytes);
    growth->replaced = arrays.tasks;
    umka::kabi::Status attached = policy_module().attach(arrays.run_queues, arrays.run_queue_bytes,
                                                         growth->task_states, growth->new_bytes);
    if (attached.is_error()) {
        growth->status = Errno(attached.code());
        return;
    }
    uint32_t old_capacity = capacity.load(std::memory_order_relaxed);
    chunks[old_capacity / slots_per_chunk] = growth->chunk;
    arrays.tasks = growth->task_states;
    arrays.task_bytes = growth->new_bytes;
    capacity.store(old_capacity + slots_per_chunk, std::memory_order_release);
    growth->status = Status::ok();
}

}  // namespace

Status initialize_task_slots(uint32_t per_chunk) {
    slots_per_chunk = per_chunk;
    chunks[0] = static_cast<Task*>(TRY(loader::allocate_zeroed(per_chunk * sizeof(Task))));
    initialize_chunk(chunks[0], 0);
    capacity.store(per_chunk, std::memory_order_release);
    return Status::ok();
}

uint32_t task_capacity() {
    return capacity.load(std::memory_order_acquire);
}

Task& task_at(uint32_t slot) {
    return chunks[slot / slots_per_chunk][slot % slots_per_chunk];
}

uint32_t task_chunk_size() {
    return slots_per_chunk;
}

Task* task_chunk(uint32_t index) {
    return chunks[index];
}

Status grow_task_slots(uint32_t seen_capacity) {
    bool expected = false;
    if (!growing.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
        while (growing.load(std::memory_order_acquire)) yield();
        return Status::ok();  // someone grew (or failed to): look again
    }
    Status status = Status::ok();
    uint32_t old_capacity = capacity.load(std::memory_order_acquire);
    if (old_capacity != seen_capacity) {
        // Grown since the caller looked.
    } else if (old_capacity / slots_per_chunk >= kMaximumChunks) {
        status = Errno::TryAgain;
    } else {
        // Read without stopping the CPUs: attach_larger checks them again inside the pause.
        uint64_t state_size = internal::policy_memory.layout.task_state_size;
        uint64_t old_bytes = internal::policy_memory.task_bytes;
        uint64_t new_bytes = old_bytes + state_size * slots_per_chunk;
        Result<void*> chunk = loader::allocate_zeroed(slots_per_chunk * sizeof(Task));
        Result<void*> states = loader::allocate_zeroed(new_bytes);
        if (chunk.is_error() || states.is_error()) {
            if (chunk.is_ok()) loader::free_zeroed(chunk.value());
            if (states.is_ok()) loader::free_zeroed(states.value());
            status = Errno::TryAgain;
        } else {
            Growth growth{static_cast<Task*>(chunk.value()),
                          states.value(),
                          nullptr,
                          old_bytes,
                          new_bytes,
                          Errno::InvalidArgument};
            initialize_chunk(growth.chunk, old_capacity);
            Result<smp::RendezvousResult> stopped =
                smp::rendezvous(smp::RendezvousMode::HoldUntilReleased, attach_larger, &growth);
            if (stopped.is_ok() && growth.status.is_ok()) {
                loader::free_zeroed(growth.replaced);
                log("sched: task slots grown from %u to %u\n", old_capacity,
                    old_capacity + slots_per_chunk);
            } else {
                loader::free_zeroed(growth.chunk);
                loader::free_zeroed(growth.task_states);
                status = stopped.is_error() ? stopped.error() : growth.status;
                log("sched: growing task slots past %u failed: %s\n", old_capacity,
                    errno_name(status.error()));
                status = Errno::TryAgain;
            }
        }
    }
    growing.store(false, std::memory_order_release);
    return status;
}

}  // namespace umka::sched::detail
