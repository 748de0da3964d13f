// The host kernel_services.Threads of module tests (host_threads.h).
#include "host_threads.h"

#include <chrono>

namespace umka::harness {

namespace services = kabi::kernel_services;

struct HostThreads::Vtable {
    static HostThreads& of(void* context) { return *static_cast<HostThreads*>(context); }

    static kabi::Status join(void* context, services::Thread thread, int32_t* exit_status) {
        HostThreads& threads = of(context);
        Spawned* spawned = nullptr;
        {
            std::lock_guard<std::mutex> lock(threads.mutex_);
            if (thread.value == 0 || thread.value > threads.threads_.size()) {
                return UMKA_KABI_EINVAL;
            }
            spawned = threads.threads_[thread.value - 1];
        }
        if (!spawned->thread.joinable()) return UMKA_KABI_EINVAL;
        spawned->thread.join();
        *exit_status = spawned->exit_status;
        return kabi::Status::ok();
    }
    static kabi::Status sleep_ns(void* context, uint64_t duration_ns) {
        std::this_thread::sleep_for(
            std::chrono::nanoseconds(duration_ns / of(context).time_divisor_));
        return kabi::Status::ok();
    }
    static void yield_now(void*) { std::this_thread::yield(); }
    static services::Thread current(void*) { return services::Thread{0}; }
    // `function` is the module's int32_t(uint64_t) in its mapped image: same ABI as the host.
    static kabi::Status spawn_thread(void* context, uint64_t function, uint64_t argument,
                                     services::ThreadPriority, services::ThreadPlacement, uint32_t,
                                     const char*, uint64_t, services::Thread* thread) {
        if (function == 0) return UMKA_KABI_EFAULT;
        HostThreads& threads = of(context);
        auto body = reinterpret_cast<int32_t (*)(uint64_t)>(uintptr_t(function));
        std::lock_guard<std::mutex> lock(threads.mutex_);
        threads.owned_.push_back(std::make_unique<Spawned>());
        Spawned* spawned = threads.owned_.back().get();
        spawned->thread =
            std::thread([spawned, body, argument] { spawned->exit_status = body(argument); });
        threads.threads_.push_back(spawned);
        thread->value = threads.threads_.size();
        return kabi::Status::ok();
    }
    static uint32_t cpu_count(void*) { return 2; }
    static uint32_t current_cpu(void*) { return 0; }
    static kabi::Status queue_create(void* context, services::WaitQueue* queue) {
        HostThreads& threads = of(context);
        std::lock_guard<std::mutex> lock(threads.mutex_);
        queue->value = ++threads.queues_;
        return kabi::Status::ok();
    }
    static kabi::Status queue_wait(void* context, services::WaitQueue queue, uint64_t word,
                                   uint32_t expected, uint64_t timeout_ns) {
        HostThreads& threads = of(context);
        std::unique_lock<std::mutex> lock(threads.mutex_);
        if (queue.value == 0 || queue.value > threads.queues_) return UMKA_KABI_EINVAL;
        if (word % 4 != 0) return UMKA_KABI_EFAULT;
        auto* value = reinterpret_cast<const uint32_t*>(uintptr_t(word));
        if (__atomic_load_n(value, __ATOMIC_ACQUIRE) != expected) return UMKA_KABI_EAGAIN;
        uint64_t seen = threads.wakes_;
        auto woken = [&] { return threads.wakes_ != seen; };
        if (timeout_ns == 0) {
            threads.wake_.wait(lock, woken);
            return kabi::Status::ok();
        }
        auto timeout = std::chrono::nanoseconds(timeout_ns / threads.time_divisor_);
        return threads.wake_.wait_for(lock, timeout, woken) ? kabi::Status::ok()
                                                            : kabi::Status(UMKA_KABI_ETIMEDOUT);
    }
    static kabi::Status queue_wake(void* context, services::WaitQueue queue, uint32_t,
                                   uint32_t* woken) {
        HostThreads& threads = of(context);
        {
            std::lock_guard<std::mutex> lock(threads.mutex_);
            if (queue.value == 0 || queue.value > threads.queues_) return UMKA_KABI_EINVAL;
            threads.wakes_ += 1;
        }
        threads.wake_.notify_all();
        *woken = 1;
        return kabi::Status::ok();
    }
    static kabi::Status queue_destroy(void*, services::WaitQueue) { return kabi::Status::ok(); }
};

HostThreads::~HostThreads() {
    join_all();
}

const services::ThreadsVtable* HostThreads::vtable() {
    static constexpr services::ThreadsVtable kThreads = services::make_threads_vtable<Vtable>();
    return &kThreads;
}

void HostThreads::wake_all() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        wakes_ += 1;
    }
    wake_.notify_all();
}

void HostThreads::join_all() {
    std::vector<Spawned*> threads;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        threads = threads_;
    }
    for (Spawned* spawned : threads) {
        if (spawned->thread.joinable()) spawned->thread.join();
    }
}

uint32_t HostThreads::spawned() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return uint32_t(threads_.size());
}

uint64_t HostThreads::wakes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return wakes_;
}

uint64_t HostThreads::queues() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return queues_;
}

}  // namespace umka::harness
