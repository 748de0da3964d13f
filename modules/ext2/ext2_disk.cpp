// The disk under an ext2 volume as the core's synchronous Device. The core is synchronous and
// every call already holds the module's lock, so one request is in flight at a time: it
// names this module's BlockCompletion (so it comes back here whoever else uses the driver),
// and the caller sleeps on completion_word until complete_request moves it. The cookie
// tells a late completion of a request given up on (a timeout) from the current one.
#include "ext2_module.h"
#include "ext2_versions.h"

namespace umka::ext2 {
namespace {

namespace block = kabi::block_device;
namespace bus = kabi::bus_access;
namespace services = kabi::kernel_services;

constexpr uint32_t kSectorBytes = 512;
// Submit attempts while the driver's queue is full (other users), yielding between.
constexpr uint32_t kSubmitRetries = 1000;

}  // namespace

Status ensure_disk_resources(const UmkaModuleBinding* binding) {
    State& state = state_of(binding);
    if (state.wait_queue_ready == 0) {
        services::ThreadsRef threads;
        if (Status bound = kabi::bind_required(binding, kThreads, &threads); bound.is_error()) {
            return bound;
        }
        services::WaitQueue queue{};
        if (Status created = threads.queue_create(&queue); created.is_error()) return created;
        state.wait_queue = queue.value;
        // Published after the handle: complete_request wakes the queue only once it exists.
        __atomic_store_n(&state.wait_queue_ready, 1u, __ATOMIC_RELEASE);
    }
    if (state.dma_length == 0) {
        bus::DmaRef dma;
        if (Status bound = kabi::bind_required(binding, kDma, &dma); bound.is_error()) {
            return bound;
        }
        bus::DmaBuffer buffer{};
        bus::DmaMapping mapping{};
        if (Status allocated = dma.allocate(
                kBounceBytes, bus::DmaDirection::ToDevice | bus::DmaDirection::FromDevice, &buffer,
                &mapping);
            allocated.is_error()) {
            return allocated;
        }
        if (mapping.cpu_address == 0 || mapping.length < kBounceBytes) {
            (void)dma.release(buffer);
            return UMKA_KABI_ENOMEM;
        }
        state.dma_buffer = buffer.value;
        state.dma_cpu_address = mapping.cpu_address;
        state.dma_device_address = mapping.device_address.value;
        state.dma_length = kBounceBytes;
    }
    return Status::ok();
}

void complete_request(const UmkaModuleBinding* binding, uint64_t cookie, int32_t result) {
    State& state = state_of(binding);
    uint64_t expected = cookie;
    // Only the request in flight may set the result: a stray (a driver completing one twice)
    // must not overwrite the current request's. One request is in flight at a time, so
    // only a duplicate of that same request can pass this check alongside it.
    if (cookie == 0 || __atomic_load_n(&state.pending_cookie, __ATOMIC_ACQUIRE) != cookie) {
        __atomic_add_fetch(&state.stray_completions, 1, __ATOMIC_RELAXED);
        return;
    }
    // The result before the cookie clears: the caller reads it once it sees the cookie go.
    __atomic_store_n(&state.pending_result, result, __ATOMIC_RELAXED);
    if (!__atomic_compare_exchange_n(&state.pending_cookie, &expected, uint64_t{0}, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        __atomic_add_fetch(&state.stray_completions, 1, __ATOMIC_RELAXED);
        return;
    }
    count_completed(state);
    __atomic_add_fetch(&state.completion_word, 1u, __ATOMIC_RELEASE);
    if (__atomic_load_n(&state.wait_queue_ready, __ATOMIC_ACQUIRE) == 0) return;
    services::ThreadsRef threads;
    if (kabi::bind_required(binding, kThreads, &threads).is_error()) return;
    uint32_t woken = 0;
    (void)threads.queue_wake(services::WaitQueue{state.wait_queue}, 1, &woken);
}

Status Disk::transfer(block::BlockOperation operation, uint64_t offset, uint32_t length) {
    State& state = state_of(binding_);
    // A request given up on may still be in the device's hands, writing the bounce buffer:
    // nothing more goes out until it completes.
    if (__atomic_load_n(&state.pending_cookie, __ATOMIC_ACQUIRE) != 0) return UMKA_KABI_EIO;
    block::BlockDeviceRef provider;
    services::ThreadsRef threads;
    if (kabi::bind_service(
            reinterpret_cast<const UmkaServiceSlot*>(uintptr_t(record_.provider_slot)), &provider)
            .is_error() ||
        kabi::bind_required(binding_, kThreads, &threads).is_error()) {
        return UMKA_KABI_EIO;
    }
    block::BlockRequest request{};
    request.cookie = ++state.next_cookie;
    request.first_sector = offset / kSectorBytes;
    request.sector_count = length / kSectorBytes;
    request.operation = operation;
    request.buffer = bus::DmaBuffer{state.dma_buffer};
    request.buffer_offset = 0;
    request.device_address = umka_kabi_dma_addr{state.dma_device_address};
    uint32_t seen = __atomic_load_n(&state.completion_word, __ATOMIC_ACQUIRE);
    __atomic_store_n(&state.pending_cookie, request.cookie, __ATOMIC_RELEASE);
    Status submitted = UMKA_KABI_EAGAIN;
    for (uint32_t attempt = 0; submitted.code() == UMKA_KABI_EAGAIN && attempt < kSubmitRetries;
         ++attempt) {
        if (attempt != 0) {
            (void)provider.device_kick(record_.device_index);
            threads.yield_now();
        }
        submitted = record_.completion_slot != 0
                        ? provider.device_submit_routed(record_.device_index, &request,
                                                        record_.completion_slot)
                        : provider.device_submit(record_.device_index, &request);
    }
    if (submitted.is_error()) {
        __atomic_store_n(&state.pending_cookie, uint64_t{0}, __ATOMIC_RELEASE);
        return submitted.code() == UMKA_KABI_EROFS ? submitted : Status(UMKA_KABI_EIO);
    }
    if (Status kicked = provider.device_kick(record_.device_index); kicked.is_error()) {
        // Submitted but never started: it stays pending, so nothing reuses the buffer.
        return UMKA_KABI_EIO;
    }
    while (__atomic_load_n(&state.pending_cookie, __ATOMIC_ACQUIRE) == request.cookie) {
        Status waited = threads.queue_wait(services::WaitQueue{state.wait_queue},
                                           uint64_t(uintptr_t(&state.completion_word)), seen,
                                           kRequestTimeoutNs);
        if (waited.is_ok() || waited.code() == UMKA_KABI_EAGAIN) {
            seen = __atomic_load_n(&state.completion_word, __ATOMIC_ACQUIRE);
            continue;
        }
        static constexpr char kTimedOut[] =
            "ext2: a disk request did not complete; the volume's disk is given up on (EIO)";
        log_line(binding_, services::LogLevel::Error, kTimedOut, sizeof kTimedOut - 1);
        return UMKA_KABI_EIO;
    }
    int32_t result = __atomic_load_n(&state.pending_result, __ATOMIC_RELAXED);
    // A device that offers no flush has no volatile cache to flush.
    if (operation == block::BlockOperation::Flush && result == UMKA_KABI_EOPNOTSUPP) result = 0;
    return result == 0 ? Status::ok() : Status(UMKA_KABI_EIO);
}

Status Disk::read(uint64_t offset, void* buffer, uint32_t length) {
    State& state = state_of(binding_);
    bus::DmaRef dma;
    if (kabi::bind_required(binding_, kDma, &dma).is_error()) return UMKA_KABI_EIO;
    if (offset % kSectorBytes != 0 || length % kSectorBytes != 0) return UMKA_KABI_EINVAL;
    uint64_t largest = uint64_t(record_.max_request_sectors) * kSectorBytes;
    if (largest == 0 || largest > state.dma_length) largest = state.dma_length;
    auto* out = static_cast<uint8_t*>(buffer);
    for (uint64_t done = 0; done < length;) {
        uint32_t chunk = uint32_t(length - done < largest ? length - done : largest);
        if (Status moved = transfer(block::BlockOperation::Read, offset + done, chunk);
            moved.is_error()) {
            return moved;
        }
        (void)dma.sync(bus::DmaBuffer{state.dma_buffer}, 0, chunk, bus::DmaDirection::FromDevice);
        __builtin_memcpy(out + done,
                         reinterpret_cast<const void*>(uintptr_t(state.dma_cpu_address)), chunk);
        done += chunk;
    }
    return Status::ok();
}

Status Disk::write(uint64_t offset, const void* data, uint32_t length) {
    State& state = state_of(binding_);
    bus::DmaRef dma;
    if (kabi::bind_required(binding_, kDma, &dma).is_error()) return UMKA_KABI_EIO;
    if (offset % kSectorBytes != 0 || length % kSectorBytes != 0) return UMKA_KABI_EINVAL;
    uint64_t largest = uint64_t(record_.max_request_sectors) * kSectorBytes;
    if (largest == 0 || largest > state.dma_length) largest = state.dma_length;
    const auto* in = static_cast<const uint8_t*>(data);
    for (uint64_t done = 0; done < length;) {
        uint32_t chunk = uint32_t(length - done < largest ? length - done : largest);
        __builtin_memcpy(reinterpret_cast<void*>(uintptr_t(state.dma_cpu_address)), in + done,
                         chunk);
        (void)dma.sync(bus::DmaBuffer{state.dma_buffer}, 0, chunk, bus::DmaDirection::ToDevice);
        if (Status moved = transfer(block::BlockOperation::Write, offset + done, chunk);
            moved.is_error()) {
            return moved;
        }
        done += chunk;
    }
    return Status::ok();
}

Status Disk::flush() {
    return transfer(block::BlockOperation::Flush, 0, 0);
}

}  // namespace umka::ext2
