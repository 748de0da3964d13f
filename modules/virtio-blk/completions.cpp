// Completions: IrqHandler.handle_interrupt(device) reaps a device's used ring when its MSI-X vector
// fires; a device the nucleus gave no vector is polled by a thread of this module while
// requests are in flight (it sleeps on the kick word while none are). Each completion goes,
// outside the queue lock, to the BlockCompletion its request was routed to
// (device_submit_routed), or else to the first block_device.BlockCompletion in the service
// directory (found once, when the first is due).
//
// A route is an index into State::completion_routes, never a slot address, because the
// request slot that carries it lives in DMA memory the device can write: a corrupted route
// is dropped and counted (completions_lost), not called through.
#include "umka/kabi/block_device.hpp"
#include "umka/kabi/service_directory.hpp"
#include "virtio_blk_driver.h"

namespace umka::virtio_blk {
namespace {

namespace block = kabi::block_device;
namespace services = kabi::kernel_services;

constexpr uint32_t kReapBatch = kQueueEntries;  // a reset drains the whole queue at once
// While nothing is in flight the thread waits this long for a kick before looking again.
constexpr uint64_t kIdleWaitNs = 100'000'000;

constexpr char kCompletionPackage[] = "block_device";
constexpr char kCompletionInterface[] = "BlockCompletion";
// Providers of BlockCompletion looked at when a consumer names its slot.
constexpr uint32_t kMaximumProviders = 16;

Status bind_completion(const UmkaModuleBinding* binding, State& state,
                       block::BlockCompletionRef* out) {
    uint64_t slot = __atomic_load_n(&state.completion_slot, __ATOMIC_ACQUIRE);
    if (slot == 0) {
        kabi::service_directory::DirectoryRef directory;
        if (Status status = kabi::bind_required(binding, kDirectory, &directory);
            status.is_error()) {
            return status;
        }
        if (Status status = directory.provider(kCompletionPackage, sizeof kCompletionPackage - 1,
                                               kCompletionInterface,
                                               sizeof kCompletionInterface - 1, 0, 1, &slot);
            status.is_error()) {
            return status;
        }
        __atomic_store_n(&state.completion_slot, slot, __ATOMIC_RELEASE);
    }
    return kabi::bind_service(reinterpret_cast<const UmkaServiceSlot*>(uintptr_t(slot)), out);
}

// The completion a request's route names; false for a route no consumer was given.
bool completion_for(const UmkaModuleBinding* binding, State& state, uint64_t route,
                    block::BlockCompletionRef* out) {
    if (route == kDefaultRoute) return bind_completion(binding, state, out).is_ok();
    if (route > kMaximumRoutes) return false;
    uint64_t slot = __atomic_load_n(&state.completion_routes[route - 1], __ATOMIC_ACQUIRE);
    if (slot == 0) return false;
    return kabi::bind_service(reinterpret_cast<const UmkaServiceSlot*>(uintptr_t(slot)), out)
        .is_ok();
}

bool in_flight(State& state) {
    for (uint32_t index = 0; index < state.device_count; ++index) {
        DeviceRecord& record = state.devices[index];
        if (__atomic_load_n(&record.phase, __ATOMIC_ACQUIRE) != uint32_t(Phase::Ready)) continue;
        if (objects_of(record).interrupt_driven) continue;
        if (__atomic_load_n(&objects_of(record).kicked, __ATOMIC_ACQUIRE) >
            __atomic_load_n(&record.completed, __ATOMIC_ACQUIRE)) {
            return true;
        }
    }
    return false;
}

}  // namespace

void lock_queue(DeviceRecord& record) {
    while (__atomic_exchange_n(&record.queue_lock, 1u, __ATOMIC_ACQUIRE) != 0) {
        while (__atomic_load_n(&record.queue_lock, __ATOMIC_RELAXED) != 0) __builtin_ia32_pause();
    }
}

void unlock_queue(DeviceRecord& record) {
    __atomic_store_n(&record.queue_lock, 0u, __ATOMIC_RELEASE);
}

uint32_t reap(const UmkaModuleBinding* binding, uint32_t index) {
    State& state = state_of(binding);
    if (index >= state.device_count) return 0;
    DeviceRecord& record = state.devices[index];
    if (__atomic_load_n(&record.phase, __ATOMIC_ACQUIRE) != uint32_t(Phase::Ready)) return 0;
    DeviceObjects& objects = objects_of(record);
    Finished finished[kReapBatch];
    uint32_t count = 0;
    bool broken = false;
    lock_queue(record);
    while (count < kReapBatch) {
        uint64_t cookie = 0;
        int32_t result = 0;
        uint64_t route = kDefaultRoute;
        virtio::PollResult polled = objects.blocks.poll(&cookie, &result, &route);
        if (polled == virtio::PollResult::Empty) break;
        if (polled == virtio::PollResult::Broken) {
            broken = true;
            break;
        }
        finished[count++] = Finished{cookie, route, result};
    }
    // Nothing completed: a device that set DEVICE_NEEDS_RESET (virtio 1.2 §2.1.2) will
    // complete nothing more until it is reset, so it is treated like a broken ring.
    bool needs_reset = !broken && count == 0 && objects.transport.needs_reset();
    if (broken || needs_reset) {
        // The device lied about its used ring, or asked for a reset: reset it, and every
        // request it held ends with EIO, once. The device stays out of service (Broken).
        (void)objects.transport.reset();
        objects.blocks.fail_in_flight([&](uint64_t cookie, int32_t result, uint64_t route) {
            if (count < kReapBatch) finished[count++] = Finished{cookie, route, result};
        });
        __atomic_store_n(&record.phase, uint32_t(Phase::Broken), __ATOMIC_RELEASE);
    }
    __atomic_add_fetch(&record.completed, count, __ATOMIC_ACQ_REL);
    unlock_queue(record);
    if (broken) {
        static constexpr char kBroken[] =
            "virtio-blk: the device broke its used ring; reset, requests in flight failed";
        log_text(binding, services::LogLevel::Error, kBroken, sizeof kBroken - 1);
    } else if (needs_reset) {
        static constexpr char kNeedsReset[] =
            "virtio-blk: the device set DEVICE_NEEDS_RESET; reset, requests in flight failed";
        log_text(binding, services::LogLevel::Error, kNeedsReset, sizeof kNeedsReset - 1);
    }
    deliver(binding, finished, count);
    return count;
}

void deliver(const UmkaModuleBinding* binding, const Finished* finished, uint32_t count) {
    State& state = state_of(binding);
    // Consecutive completions mostly share a route: bind once per run of them.
    block::BlockCompletionRef completion;
    uint64_t bound_route = ~uint64_t{0};
    bool bound = false;
    for (uint32_t done = 0; done < count; ++done) {
        if (finished[done].route != bound_route) {
            bound_route = finished[done].route;
            bound = completion_for(binding, state, bound_route, &completion);
        }
        if (!bound) {
            __atomic_add_fetch(&state.completions_lost, 1u, __ATOMIC_RELAXED);
            continue;
        }
        completion.complete(finished[done].cookie, finished[done].result);
    }
}

Status route_for(const UmkaModuleBinding* binding, uint64_t completion, uint64_t* route) {
    State& state = state_of(binding);
    if (completion == 0) return UMKA_KABI_ENOENT;
    for (uint32_t index = 0; index < kMaximumRoutes; ++index) {
        if (__atomic_load_n(&state.completion_routes[index], __ATOMIC_ACQUIRE) == completion) {
            *route = index + 1;
            return Status::ok();
        }
    }
    // A new consumer: its slot must be one the directory hands out for BlockCompletion
    // (looking it up also records this module's binding to it, so it stays published).
    kabi::service_directory::DirectoryRef directory;
    if (Status status = kabi::bind_required(binding, kDirectory, &directory); status.is_error()) {
        return status;
    }
    bool known = false;
    for (uint32_t index = 0; index < kMaximumProviders && !known; ++index) {
        uint64_t slot = 0;
        if (directory
                .provider(kCompletionPackage, sizeof kCompletionPackage - 1, kCompletionInterface,
                          sizeof kCompletionInterface - 1, index, 1, &slot)
                .is_error()) {
            break;
        }
        known = slot == completion;
    }
    if (!known) return UMKA_KABI_ENOENT;
    for (uint32_t index = 0; index < kMaximumRoutes; ++index) {
        uint64_t expected = 0;
        if (__atomic_compare_exchange_n(&state.completion_routes[index], &expected, completion,
                                        false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
            expected == completion) {
            *route = index + 1;
            return Status::ok();
        }
    }
    return UMKA_KABI_ENOSPC;
}

int32_t completion_thread(uint64_t argument) {
    const auto* binding = reinterpret_cast<const UmkaModuleBinding*>(argument);
    State& state = state_of(binding);
    services::ThreadsRef threads;
    if (kabi::bind_required(binding, kThreads, &threads).is_error()) return UMKA_KABI_EINVAL;
    kabi::kernel_services::WaitQueue queue{state.wait_queue};
    while (__atomic_load_n(&state.stopping, __ATOMIC_ACQUIRE) == 0) {
        uint32_t seen = __atomic_load_n(&state.kick_word, __ATOMIC_ACQUIRE);
        uint32_t done = 0;
        for (uint32_t index = 0; index < state.device_count; ++index) {
            DeviceRecord& record = state.devices[index];
            if (__atomic_load_n(&record.phase, __ATOMIC_ACQUIRE) != uint32_t(Phase::Ready) ||
                objects_of(record).interrupt_driven) {
                continue;
            }
            done += reap(binding, index);
        }
        if (done != 0) continue;
        if (in_flight(state)) {
            threads.yield_now();
        } else {
            // A kick after `seen` was read changes the word: the wait returns at once.
            (void)threads.queue_wait(queue, reinterpret_cast<uint64_t>(&state.kick_word), seen,
                                     kIdleWaitNs);
        }
    }
    return UMKA_KABI_OK;
}

}  // namespace umka::virtio_blk
