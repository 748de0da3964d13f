// kernel_services.Threads: kernel threads and futex-style wait queues for modules.
//
// The calling module is found from the return address into its image (the thunks inline
// the caller's frame, as for ModuleMemory), and everything it names is checked against it:
// a thread function must lie in one of its executable segments (EFAULT otherwise), a
// thread or queue handle must be one it created (handle_table.h: generation-counted, so a
// joined thread or destroyed queue is stale, and another module's handle is refused).
// Threads run as nucleus tasks owned by the module and reaped by join, which only the
// owner can do.
#include <arch/cpu.h>
#include <arch/memory.h>

#include <new>

#include "nucleus/containment/containment.h"
#include "nucleus/lib/spinlock.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/published/nucleus_services.h"
#include "nucleus/sched/handle_table.h"
#include "nucleus/sched/scheduler.h"
#include "umka/kabi/kernel_services.hpp"

namespace umka::loader {
namespace {

namespace services = umka::kabi::kernel_services;

// Wait queues for all modules together; a queue is a slot, so handles stay checkable
// without allocation on the wait path.
constexpr size_t kModuleWaitQueues = 256;

// Lock order: a leaf (LockLevel::ModuleQueueTable), held only to look a queue up or free it.
constinit SpinLock queue_table_lock{LockLevel::ModuleQueueTable};
constinit sched::HandleTable* queue_table = nullptr;
constinit sched::WaitQueue* queues = nullptr;

[[gnu::always_inline]] inline ModuleRecord* calling_module(void* return_address) {
    return module_system().record_containing(return_address);
}

Result<int8_t> nice_of(services::ThreadPriority priority) {
    switch (priority) {
    case services::ThreadPriority::Idle:
        return int8_t(19);
    case services::ThreadPriority::Normal:
        return int8_t(0);
    case services::ThreadPriority::High:
        return int8_t(-10);
    case services::ThreadPriority::Realtime:
        return int8_t(-20);
    }
    return Errno::InvalidArgument;
}

Result<sched::Placement> placement_of(services::ThreadPlacement placement) {
    switch (placement) {
    case services::ThreadPlacement::Anywhere:
        return sched::Placement::Anywhere;
    case services::ThreadPlacement::OnCpu:
        return sched::Placement::Pinned;
    }
    return Errno::InvalidArgument;
}

struct WordWait {
    const uint32_t* word;
    uint32_t expected;
};

bool word_still_expected(void* context) {
    auto* wait = static_cast<WordWait*>(context);
    return __atomic_load_n(wait->word, __ATOMIC_ACQUIRE) == wait->expected;
}

struct ThreadsService {
    [[gnu::always_inline]] static inline Status spawn_thread(
        void*, uint64_t function, uint64_t argument, services::ThreadPriority priority,
        services::ThreadPlacement placement, uint32_t cpu, const char* name_data,
        uint64_t name_length, services::Thread* thread) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr || thread == nullptr) return Errno::InvalidArgument;
        int8_t nice = TRY(nice_of(priority));
        sched::Placement where = TRY(placement_of(placement));
        if (name_data == nullptr || name_length == 0 || name_length >= sizeof(sched::Task::name)) {
            return Errno::InvalidArgument;
        }
        if (!module_range_readable(reinterpret_cast<uint64_t>(name_data), name_length))
            return Errno::BadAddress;
        if (!caller->image.executes(reinterpret_cast<const void*>(function)))
            return Errno::BadAddress;
        if (where == sched::Placement::Pinned && cpu >= sched::cpu_count())
            return Errno::NoDeviceOrAddress;
        char name[sizeof(sched::Task::name)];
        __builtin_memcpy(name, name_data, name_length);
        name[name_length] = '\0';
        // The thread's body is guarded: a fault in the module's code ends the thread with EIO
        // and restarts the module, rather than the machine (nucleus/containment).
        sched::SpawnOptions options{nice,          where,
                                    cpu,           sched::Reaping::ByJoin,
                                    caller->owner, containment::run_module_thread};
        sched::Task* task = TRY(
            sched::spawn(name, reinterpret_cast<sched::TaskEntry>(function), argument, options));
        thread->value = sched::task_handle(*task);
        return Status::ok();
    }

    [[gnu::always_inline]] static inline Status join(void*, services::Thread thread,
                                                     int32_t* exit_status) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr || exit_status == nullptr) return Errno::InvalidArgument;
        *exit_status = TRY(sched::join(thread.value, caller->owner));
        return Status::ok();
    }

    static Status sleep_ns(void*, uint64_t duration_ns) {
        if (sched::running()) {
            sched::sleep_ns(duration_ns);
            return Status::ok();
        }
        // Before the scheduler runs there is nothing to switch to: wait on the clock.
        uint64_t until = sched::deadline_after(duration_ns);
        while (sched::now_ns() < until) arch::cpu_relax();
        return Status::ok();
    }

    static void yield_now(void*) { sched::yield(); }

    [[gnu::always_inline]] static inline services::Thread current(void*) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        sched::Task* task = sched::current_task();
        if (caller == nullptr || task == nullptr || task->owner != caller->owner ||
            task->reaping != sched::Reaping::ByJoin) {
            return services::Thread{0};
        }
        return services::Thread{sched::task_handle(*task)};
    }

    static uint32_t cpu_count(void*) { return sched::cpu_count(); }
    static uint32_t current_cpu(void*) { return arch::current_cpu_index(); }

    [[gnu::always_inline]] static inline Status queue_create(void*, services::WaitQueue* queue) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr || queue == nullptr) return Errno::InvalidArgument;
        SpinLockGuard guard(queue_table_lock);
        queue->value = TRY(queue_table->create(caller->owner));
        return Status::ok();
    }

    [[gnu::always_inline]] static inline Status queue_wait(void*, services::WaitQueue queue,
                                                           uint64_t word, uint32_t expected,
                                                           uint64_t timeout_ns) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr) return Errno::InvalidArgument;
        if (!sched::running()) return Errno::NoFunction;
        if (word % alignof(uint32_t) != 0 || !module_range_readable(word, sizeof(uint32_t)))
            return Errno::BadAddress;
        uint32_t slot = 0;
        {
            SpinLockGuard guard(queue_table_lock);
            if (queue_table->acquire(queue.value, caller->owner, &slot) !=
                sched::HandleCheck::Valid) {
                return Errno::InvalidArgument;
            }
        }
        WordWait wait{reinterpret_cast<const uint32_t*>(word), expected};
        uint64_t deadline = timeout_ns == 0 ? 0 : sched::deadline_after(timeout_ns);
        sched::WaitOutcome outcome = queues[slot].wait_once(word_still_expected, &wait, deadline);
        {
            SpinLockGuard guard(queue_table_lock);
            queue_table->release(slot);
        }
        switch (outcome) {
        case sched::WaitOutcome::NotBlocked:
            return Errno::TryAgain;
        case sched::WaitOutcome::TimedOut:
            return Errno::TimedOut;
        case sched::WaitOutcome::Woken:
            return Status::ok();
        }
        return Errno::InvalidArgument;
    }

    [[gnu::always_inline]] static inline Status queue_wake(void*, services::WaitQueue queue,
                                                           uint32_t count, uint32_t* woken) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr || woken == nullptr) return Errno::InvalidArgument;
        uint32_t slot = 0;
        {
            SpinLockGuard guard(queue_table_lock);
            if (queue_table->acquire(queue.value, caller->owner, &slot) !=
                sched::HandleCheck::Valid) {
                return Errno::InvalidArgument;
            }
        }
        *woken = queues[slot].wake(count);
        SpinLockGuard guard(queue_table_lock);
        queue_table->release(slot);
        return Status::ok();
    }

    [[gnu::always_inline]] static inline Status queue_destroy(void*, services::WaitQueue queue) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr) return Errno::InvalidArgument;
        // A waiter holds a use of its queue until it returns, so no waiter is left behind.
        SpinLockGuard guard(queue_table_lock);
        return queue_table->destroy(queue.value, caller->owner);
    }
};

constexpr services::ThreadsVtable kThreadsVtable = services::make_threads_vtable<ThreadsService>();

}  // namespace

bool module_range_readable(uint64_t address, uint64_t length) {
    if (address == 0 || length == 0 || address + length < address) return false;
    for (uint64_t page = address & ~uint64_t(kFrameSize - 1); page < address + length;
         page += kFrameSize) {
        if (!arch::is_mapped(page)) return false;
    }
    return true;
}

Status publish_threads(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic) {
    auto* slots = static_cast<sched::HandleSlot*>(
        TRY(allocate_zeroed(kModuleWaitQueues * sizeof(sched::HandleSlot))));
    void* table = TRY(allocate_zeroed(sizeof(sched::HandleTable)));
    queues = static_cast<sched::WaitQueue*>(
        TRY(allocate_zeroed(kModuleWaitQueues * sizeof(sched::WaitQueue))));
    queue_table = new (table) sched::HandleTable(slots, kModuleWaitQueues);
    for (size_t index = 0; index < kModuleWaitQueues; ++index)
        new (&queues[index]) sched::WaitQueue();
    return publish_vtable(registry, "kernel_services", "Threads",
                          reinterpret_cast<const umka_kabi_vtable_header*>(&kThreadsVtable),
                          kThreadsVtable.version, diagnostic);
}

size_t transfer_wait_queues(uint32_t from_owner, uint32_t to_owner) {
    if (queue_table == nullptr) return 0;
    SpinLockGuard guard(queue_table_lock);
    return queue_table->transfer(from_owner, to_owner);
}

}  // namespace umka::loader
