// Task slots: the nucleus's task records and the policy's per-task states, grown when every
// slot is in use.
//
// Records live in chunks that never move (a Task* stays valid while the table grows; wait
// queues, run queues and handles hold them). The policy's task states are one array the
// policy indexes by slot; growing it means a larger zeroed copy handed over with `attach`
// (services/scheduler/README.md §1), which must see no policy call in between: the copy and
// the attach run in a HoldUntilReleased rendezvous, with every other CPU stopped and
// interrupts off here, so no run-queue lock is held and no policy call is under way.
#include <arch/memory.h>

#include <atomic>

#include "nucleus/lib/log.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/mm/physical_memory.h"
#include "nucleus/sched/scheduler_internal.h"
#include "nucleus/smp/rendezvous.h"

namespace umka::sched::detail {
namespace {

namespace policy_api = umka::kabi::scheduler_policy;

// At most this many chunks (each the start-up size): 64 slots per CPU at start, up to
// 64 times that.
constexpr uint32_t kMaximumChunks = 64;

struct PolicyArrays {
    void* run_queues;
    uint64_t run_queue_bytes;
    void* task_states;
    uint32_t task_state_size;
};

constinit Task* chunks[kMaximumChunks] = {};
constinit uint32_t slots_per_chunk = 0;
constinit std::atomic<uint32_t> capacity{0};
constinit PolicyArrays arrays{};
// One grower at a time; the others wait for it and look again.
constinit std::atomic<bool> growing{false};

void initialize_chunk(Task* chunk, uint32_t first_slot) {
    for (uint32_t index = 0; index < slots_per_chunk; ++index) {
        chunk[index].slot = first_slot + index;
        chunk[index].generation.store(1, std::memory_order_relaxed);
    }
}

struct Growth {
    Task* chunk;
    void* task_states;  // the larger policy array
    uint64_t old_bytes;
    uint64_t new_bytes;
    Status status;
};

// Every other CPU is stopped and this one has interrupts off.
void attach_larger(void* argument) {
    auto* growth = static_cast<Growth*>(argument);
    __builtin_memcpy(growth->task_states, arrays.task_states, growth->old_bytes);
    umka::kabi::Status attached = policy_module().attach(arrays.run_queues, arrays.run_queue_bytes,
                                                         growth->task_states, growth->new_bytes);
    if (attached.is_error()) {
        growth->status = Errno(attached.code());
        return;
    }
    uint32_t old_capacity = capacity.load(std::memory_order_relaxed);
    chunks[old_capacity / slots_per_chunk] = growth->chunk;
    arrays.task_states = growth->task_states;
    capacity.store(old_capacity + slots_per_chunk, std::memory_order_release);
    growth->status = Status::ok();
}

void free_frames(void* memory) {
    (void)physical_memory().free(arch::direct_map_to_physical(memory));
}

}  // namespace

Status initialize_task_slots(uint32_t per_chunk, void* run_queues, uint64_t run_queue_bytes,
                             void* task_states, uint32_t task_state_size) {
    slots_per_chunk = per_chunk;
    chunks[0] = static_cast<Task*>(TRY(loader::allocate_zeroed(per_chunk * sizeof(Task))));
    initialize_chunk(chunks[0], 0);
    arrays = PolicyArrays{run_queues, run_queue_bytes, task_states, task_state_size};
    capacity.store(per_chunk, std::memory_order_release);
    return Status::ok();
}

uint32_t task_capacity() {
    return capacity.load(std::memory_order_acquire);
}

Task& task_at(uint32_t slot) {
    return chunks[slot / slots_per_chunk][slot % slots_per_chunk];
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
        uint64_t old_bytes = uint64_t(arrays.task_state_size) * old_capacity;
        uint64_t new_bytes = old_bytes + uint64_t(arrays.task_state_size) * slots_per_chunk;
        Result<void*> chunk = loader::allocate_zeroed(slots_per_chunk * sizeof(Task));
        Result<void*> states = loader::allocate_zeroed(new_bytes);
        if (chunk.is_error() || states.is_error()) {
            if (chunk.is_ok()) free_frames(chunk.value());
            if (states.is_ok()) free_frames(states.value());
            status = Errno::TryAgain;
        } else {
            Growth growth{static_cast<Task*>(chunk.value()), states.value(), old_bytes, new_bytes,
                          Errno::InvalidArgument};
            initialize_chunk(growth.chunk, old_capacity);
            void* old_states = arrays.task_states;
            Result<smp::RendezvousResult> stopped =
                smp::rendezvous(smp::RendezvousMode::HoldUntilReleased, attach_larger, &growth);
            if (stopped.is_ok() && growth.status.is_ok()) {
                free_frames(old_states);
                log("sched: task slots grown from %u to %u\n", old_capacity,
                    old_capacity + slots_per_chunk);
            } else {
                free_frames(growth.chunk);
                free_frames(growth.task_states);
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
