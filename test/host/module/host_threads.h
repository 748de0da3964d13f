// kernel_services.Threads v2 for module tests: spawn_thread runs the module's function on a
// std::thread, join waits for it, and the wait queues are futex-style over one mutex and
// condition variable (the word is read under the lock queue_wake takes, so no wake is lost).
// A module's thread that loops until told to stop must be told (through its state) and
// woken (wake_all) before join_all, which the destructor also does.
#pragma once

#include <stdint.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "umka/kabi/kernel_services.hpp"

namespace umka::harness {

class HostThreads {
public:
    HostThreads() = default;
    ~HostThreads();
    HostThreads(const HostThreads&) = delete;
    HostThreads& operator=(const HostThreads&) = delete;

    // The vtable to publish (harness.provide("kernel_services", "Threads", ...)).
    static const kabi::kernel_services::ThreadsVtable* vtable();

    // Timeouts pass this many times faster than asked (a module's 5 s wait in 50 ms).
    void set_time_divisor(uint64_t divisor) { time_divisor_ = divisor == 0 ? 1 : divisor; }
    // Wakes every waiter of every queue, as if each queue were woken.
    void wake_all();
    // Joins every spawned thread not joined yet (by the module or earlier).
    void join_all();

    uint32_t spawned() const;
    uint64_t wakes() const;
    uint64_t queues() const;

    // The vtable's functions (host_threads.cpp); they reach the members below.
    struct Vtable;

private:
    struct Spawned {
        std::thread thread;
        int32_t exit_status = 0;
    };

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    uint64_t wakes_ = 0;
    uint64_t queues_ = 0;
    uint64_t time_divisor_ = 1;
    // Handles are index + 1; a std::thread is joined once, so the vector only grows.
    std::vector<Spawned*> threads_;
    std::vector<std::unique_ptr<Spawned>> owned_;
};

}  // namespace umka::harness
