#include "nucleus/sched/marker_writer.h"

#include "umka/kabi/char_device_ring.hpp"

namespace umka::sched {
namespace {

// Every request writes from here: the provider reads the bytes while the request is
// queued, so they must stay put until its completion, whoever submitted it.
constexpr struct MarkerBytes {
    char bytes[kMarkerWriteBytes];
    constexpr MarkerBytes() : bytes() {
        for (char& byte : bytes) byte = kMarkerByte;
    }
} kMarkers;

}  // namespace

// Runs in the writer's own thread (from reserve(), reap() or drain()), never concurrently.
void MarkerWriter::complete(void* context, const umka_kabi_ring_completion& completion) {
    auto* writer = static_cast<MarkerWriter*>(context);
    uint32_t found = 0;
    while (found < writer->pending_count_ &&
           writer->pending_[found].request_id != completion.request_id) {
        ++found;
    }
    if (found == writer->pending_count_) {  // not one of ours: a broken provider
        writer->fail(Errno::BadMessage);
        return;
    }
    uint64_t length = writer->pending_[found].length;
    writer->pending_[found] = writer->pending_[--writer->pending_count_];
    uint64_t transferred = 0;
    kabi::Status status =
        kabi::char_device::char_device_ring::complete_write(completion, &transferred);
    if (status.is_error() || transferred > length) {
        writer->fail(status.is_error() ? Errno(status.code()) : Errno::BadMessage);
        return;
    }
    writer->bytes_.fetch_add(transferred, std::memory_order_relaxed);
    writer->writes_.fetch_add(1, std::memory_order_relaxed);
    writer->rest_ += length - transferred;
}

void MarkerWriter::fail(Status status) {
    Errno expected = Errno::Ok;
    failure_.compare_exchange_strong(expected, status.error(), std::memory_order_relaxed);
}

Status MarkerWriter::submit(uint64_t length) {
    ring::RingCaller& caller = *caller_;
    // May hand ready completions to complete() to make room: pending_ changes here.
    umka_kabi_ring_request* entry = caller.reserve();
    if (entry == nullptr) return Errno::TryAgain;
    kabi::char_device::char_device_ring::marshal_write(*entry, kMarkers.bytes, length, nullptr);
    uint64_t request_id = TRY(caller.submit(*entry));
    pending_[pending_count_++] = Pending{request_id, length};
    return Status::ok();
}

Status MarkerWriter::step() {
    TRY(failure());
    ring::RingCaller& caller = *caller_;
    while (pending_count_ < kQueuedWrites && failure().is_ok()) {
        // Taken off rest_ before submit(): its reserve() may add a new short write's rest.
        uint64_t from_rest = rest_ < kMarkerWriteBytes ? rest_ : kMarkerWriteBytes;
        rest_ -= from_rest;
        Status submitted = submit(from_rest != 0 ? from_rest : kMarkerWriteBytes);
        if (submitted.is_error()) {
            fail(submitted);
            return failure();
        }
    }
    // A completion that failed while reserve() made room stops the writer; finish()
    // then takes whatever is still outstanding.
    if (failure().is_error() || caller.outstanding() == 0) return failure();
    Status waited = caller.wait_for_completion();
    if (waited.is_ok()) {
        Result<uint32_t> reaped = caller.reap(kQueuedWrites);
        if (reaped.is_error()) waited = reaped.status();
    }
    if (waited.is_error()) fail(waited);
    return failure();
}

Status MarkerWriter::finish() {
    Status drained = caller_->drain();
    if (drained.is_error()) fail(drained);
    return failure();
}

}  // namespace umka::sched
