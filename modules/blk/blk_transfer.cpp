// Requests in flight for `blk`: request k uses slot k % slots and the slot's part of the
// DMA buffer, so the data is handled (hashed, generated) in request order while up to
// `slots` requests are with the device. A slot's cookie is its index; complete()
// (block_console.cpp) clears its in_flight bit and counts it in `completed`.
#include "block_console.h"
#include "nucleus/crypto/sha256.h"
#include "umka/errno_text.h"
#include "umka/fill_pattern.h"

namespace umka::blk {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "queue_wait sleeps on `completed`'s low word, which is its first four bytes");

// A slot's first sector when it carries a flush (no sector to name).
constexpr uint64_t kFlushSector = ~uint64_t(0);

class Transfer {
public:
    Transfer(const UmkaModuleBinding* binding, const Device& device, Output& out)
        : state_(state_of(binding)), device_(device), out_(out) {
        (void)kabi::bind_required(binding, kThreads, &threads_);
        (void)kabi::bind_required(binding, kDma, &dma_);
    }

    uint8_t* data(uint64_t offset) const {
        return reinterpret_cast<uint8_t*>(uintptr_t(state_.dma_cpu_address + offset));
    }

    void sync(uint64_t offset, uint64_t length, bus::DmaDirection direction) {
        (void)dma_.sync(bus::DmaBuffer{state_.dma_buffer}, offset, length, direction);
    }

    Status hand_over(const block::BlockRequest& request) {
        if (device_.completion_slot != 0) {
            return device_.provider.device_submit_routed(device_.device_index, &request,
                                                         device_.completion_slot);
        }
        return device_.provider.device_submit(device_.device_index, &request);
    }

    // Hands the request to the driver; its bit is set first, since the completion may come
    // back (on the driver's thread) before device_submit returns.
    Status submit(uint32_t slot, block::BlockOperation operation, uint64_t sector, uint32_t sectors,
                  uint64_t offset) {
        uint64_t bit = uint64_t(1) << slot;
        sectors_[slot] = operation == block::BlockOperation::Flush ? kFlushSector : sector;
        block::BlockRequest request{};
        request.cookie = slot;
        request.first_sector = sector;
        request.sector_count = sectors;
        request.operation = operation;
        request.buffer = bus::DmaBuffer{state_.dma_buffer};
        request.buffer_offset = offset;
        request.device_address = umka_kabi_dma_addr{state_.dma_device_address + offset};
        __atomic_store_n(&state_.results[slot], 0, __ATOMIC_RELAXED);
        __atomic_fetch_or(&state_.in_flight, bit, __ATOMIC_ACQ_REL);
        Status submitted = hand_over(request);
        // EAGAIN: the device's queue is full (other users, or a driver that frees its
        // descriptor only after complete() returned): let it drain, then try again.
        for (uint32_t attempt = 0; submitted.code() == UMKA_KABI_EAGAIN && attempt < kRetries;
             ++attempt) {
            if (kick().is_error()) break;
            threads_.yield_now();
            submitted = hand_over(request);
        }
        if (submitted.is_error()) {
            __atomic_fetch_and(&state_.in_flight, ~bit, __ATOMIC_ACQ_REL);
            report_sector(slot, "submit refused: ", submitted.code());
            return submitted;
        }
        unkicked_ = true;
        return Status::ok();
    }

    // Until slot's request completes; its result then. ETIMEDOUT when no request of the
    // device completed for kRequestTimeoutNs.
    Status wait_for(uint32_t slot, bool quiet = false) {
        uint64_t bit = uint64_t(1) << slot;
        for (;;) {
            // `completed` before in_flight: a completion after this read changes the word,
            // so queue_wait returns at once instead of sleeping through it.
            uint32_t seen = uint32_t(__atomic_load_n(&state_.completed, __ATOMIC_ACQUIRE));
            if ((__atomic_load_n(&state_.in_flight, __ATOMIC_ACQUIRE) & bit) == 0) break;
            if (Status kicked = kick(); kicked.is_error()) {
                if (!quiet) report("kick: ", kicked.code());
                return kicked;
            }
            Status waited = threads_.queue_wait(services::WaitQueue{state_.wait_queue},
                                                uint64_t(uintptr_t(&state_.completed)), seen,
                                                kRequestTimeoutNs);
            if (waited.is_ok() || waited.code() == UMKA_KABI_EAGAIN) continue;
            if (!quiet && waited.code() == UMKA_KABI_ETIMEDOUT) {
                LineText<80> line;
                line.add("blk: ").add(device_.name).add(": request timed out (ETIMEDOUT)");
                out_.line(line);
            } else if (!quiet) {
                report("wait: ", waited.code());
            }
            return waited;
        }
        int32_t result = __atomic_load_n(&state_.results[slot], __ATOMIC_RELAXED);
        if (result == 0) return Status::ok();
        if (!quiet) report_sector(slot, "", result);
        return result > 0 ? Status(result) : Status(UMKA_KABI_EIO);
    }

    // After a failure: waits (quietly) for the requests still in flight, so their data is
    // not overwritten under the device; one that times out is left in flight, and the
    // next command refuses to start until it completes.
    void drain(uint32_t slots) {
        for (uint32_t slot = 0; slot < slots; ++slot) {
            if (wait_for(slot, true).code() == UMKA_KABI_ETIMEDOUT) return;
        }
    }

private:
    Status kick() {
        if (!unkicked_) return Status::ok();
        unkicked_ = false;
        return device_.provider.device_kick(device_.device_index);
    }

    void report(const char* what, int32_t code) {
        LineText<96> line;
        line.add("blk: ").add(device_.name).add(": ").add(what).add(errno_text(code));
        out_.line(line);
    }

    void report_sector(uint32_t slot, const char* what, int32_t code) {
        LineText<96> line;
        line.add("blk: ").add(device_.name).add(": ");
        if (sectors_[slot] == kFlushSector) {
            line.add("flush: ");
        } else {
            line.add("sector ").number(sectors_[slot]).add(": ");
        }
        line.add(what).add(errno_text(code));
        out_.line(line);
    }

    State& state_;
    const Device& device_;
    Output& out_;
    services::ThreadsRef threads_;
    bus::DmaRef dma_;
    static constexpr uint32_t kRetries = 100000;
    bool unkicked_ = false;
    uint64_t sectors_[kSlotCount] = {};
};

// Where request `index` of `plan` goes and how many sectors it covers; `offsets` is the
// Random placement's stream, asked once per request in order.
void place_request(const TransferPlan& plan, const Device& device, uint64_t index,
                   FillPattern& offsets, uint64_t* sector, uint32_t* sectors) {
    if (plan.placement != Placement::Range) {
        uint64_t places = device.geometry.sector_count / plan.request_sectors;
        uint64_t place = plan.placement == Placement::Wrap ? index : offsets.next_word();
        *sector = (place % places) * plan.request_sectors;
        *sectors = plan.request_sectors;
        return;
    }
    *sector = plan.first_sector + index * plan.request_sectors;
    uint64_t left = plan.first_sector + plan.sector_count - *sector;
    *sectors = left < plan.request_sectors ? uint32_t(left) : plan.request_sectors;
}

}  // namespace

Status run_transfer(const UmkaModuleBinding* binding, const Device& device,
                    const TransferPlan& plan, uint32_t slots, Output& out) {
    Transfer transfer(binding, device, out);
    bool writing = plan.operation == block::BlockOperation::Write;
    uint64_t slot_bytes = uint64_t(plan.request_sectors) * kSectorBytes;
    if (slots > kSlotCount) slots = kSlotCount;
    if (slots * slot_bytes > kBufferBytes) slots = uint32_t(kBufferBytes / slot_bytes);
    uint64_t issued = 0;
    uint64_t finished = 0;
    uint32_t lengths[kSlotCount] = {};
    FillPattern offsets(kRandomSeed);
    while (finished < plan.request_count) {
        for (; issued < plan.request_count && issued - finished < slots; ++issued) {
            uint32_t slot = uint32_t(issued % slots);
            uint64_t sector = 0;
            uint32_t sectors = 0;
            place_request(plan, device, issued, offsets, &sector, &sectors);
            uint64_t offset = slot * slot_bytes;
            uint64_t bytes = uint64_t(sectors) * kSectorBytes;
            lengths[slot] = uint32_t(bytes);
            if (writing) {
                if (plan.pattern != nullptr) plan.pattern->fill(transfer.data(offset), bytes / 8);
                if (plan.hash != nullptr) plan.hash->update(transfer.data(offset), bytes);
                transfer.sync(offset, bytes, bus::DmaDirection::ToDevice);
            }
            if (Status submitted = transfer.submit(slot, plan.operation, sector, sectors, offset);
                submitted.is_error()) {
                transfer.drain(slots);
                return submitted;
            }
        }
        uint32_t slot = uint32_t(finished % slots);
        if (Status done = transfer.wait_for(slot); done.is_error()) {
            if (done.code() != UMKA_KABI_ETIMEDOUT) transfer.drain(slots);
            return done;
        }
        if (!writing) {
            uint64_t offset = slot * slot_bytes;
            transfer.sync(offset, lengths[slot], bus::DmaDirection::FromDevice);
            if (plan.hash != nullptr) plan.hash->update(transfer.data(offset), lengths[slot]);
        }
        ++finished;
    }
    return Status::ok();
}

Status flush_device(const UmkaModuleBinding* binding, const Device& device, Output& out) {
    Transfer transfer(binding, device, out);
    if (Status submitted = transfer.submit(0, block::BlockOperation::Flush, 0, 0, 0);
        submitted.is_error()) {
        return submitted;
    }
    return transfer.wait_for(0);
}

}  // namespace umka::blk
