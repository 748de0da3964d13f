// virtio-blk requests (virtio 1.2 §5.2) over a SplitQueue and a Transport: the device's
// geometry read from its configuration, and read, write, flush and discard checked before
// they reach the device (an unaligned, out-of-range, oversized or read-only-device request
// is refused with its errno and never submitted). Each request uses one slot of driver
// memory for its header, discard range and status byte; the data buffer is the caller's
// DMA memory. Header-only, like the transport.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "umka/kabi/kabi_base.h"
#include "umka/virtio/split_queue.h"
#include "umka/virtio/transport.h"

namespace umka::virtio::block {

inline constexpr uint64_t kFeatureSizeMax = 1ull << 1;
inline constexpr uint64_t kFeatureSegmentMax = 1ull << 2;
inline constexpr uint64_t kFeatureReadOnly = 1ull << 5;
inline constexpr uint64_t kFeatureBlockSize = 1ull << 6;
inline constexpr uint64_t kFeatureFlush = 1ull << 9;
inline constexpr uint64_t kFeatureTopology = 1ull << 10;
inline constexpr uint64_t kFeatureDiscard = 1ull << 13;
// What this driver can use.
inline constexpr uint64_t kDriverFeatures =
    kFeatureSizeMax | kFeatureSegmentMax | kFeatureReadOnly | kFeatureBlockSize | kFeatureFlush |
    kFeatureTopology | kFeatureDiscard | kFeatureIndirect | kFeatureEventIndex;

inline constexpr uint32_t kSectorBytes = 512;
inline constexpr uint32_t kSlotBytes = 64;
// Header and status take two segments of a request; the data the rest.
inline constexpr uint16_t kDataSegments = kMaximumSegments - 2;

// struct virtio_blk_config, the fields this driver reads (offsets of §5.2.4).
namespace config {
inline constexpr uint32_t kCapacity = 0;
inline constexpr uint32_t kSizeMax = 8;
inline constexpr uint32_t kSegmentMax = 12;
inline constexpr uint32_t kBlockSize = 20;
inline constexpr uint32_t kPhysicalBlockExponent = 24;
inline constexpr uint32_t kMaximumDiscardSectors = 36;
inline constexpr uint32_t kMaximumDiscardSegments = 40;
inline constexpr uint32_t kBytes = 48;
}  // namespace config

struct Geometry {
    uint64_t sectors = 0;       // capacity in 512-byte sectors
    uint32_t block_size = 512;  // the device's logical block (blk_size), a power of two >= 512
    uint32_t physical_block_size = 512;
    uint32_t size_max = 0;     // largest segment in bytes (0: no limit given)
    uint32_t segment_max = 1;  // segments per request the device takes
    uint32_t max_discard_sectors = 0;
    bool read_only = false;
    bool flush = false;
    bool discard = false;
};

enum class Operation : uint8_t { Read, Write, Flush, Discard };

inline const char* operation_name(Operation operation) {
    switch (operation) {
    case Operation::Read:
        return "read";
    case Operation::Write:
        return "write";
    case Operation::Flush:
        return "flush";
    case Operation::Discard:
        return "discard";
    }
    return "?";
}

// The geometry from the device configuration and the negotiated features; false when the
// configuration kept changing (the transport says so) or is nonsense (a block size that is
// not a power of two of at least 512 bytes).
inline bool read_geometry(Transport& transport, uint64_t features, Geometry* geometry) {
    uint8_t bytes[config::kBytes] = {};
    if (transport.read_config(0, bytes, config::kBytes) != TransportProblem::None) return false;
    auto field32 = [&](uint32_t offset) {
        return uint32_t(bytes[offset]) | uint32_t(bytes[offset + 1]) << 8 |
               uint32_t(bytes[offset + 2]) << 16 | uint32_t(bytes[offset + 3]) << 24;
    };
    Geometry result;
    result.sectors = uint64_t(field32(config::kCapacity)) | uint64_t(field32(config::kCapacity + 4))
                                                                << 32;
    if ((features & kFeatureSizeMax) != 0) result.size_max = field32(config::kSizeMax);
    if ((features & kFeatureSegmentMax) != 0) {
        uint32_t segments = field32(config::kSegmentMax);
        result.segment_max = segments == 0 ? 1 : segments;
    }
    if ((features & kFeatureBlockSize) != 0) {
        uint32_t size = field32(config::kBlockSize);
        if (size < kSectorBytes || (size & (size - 1)) != 0) return false;
        result.block_size = size;
    }
    result.physical_block_size = result.block_size;
    if ((features & kFeatureTopology) != 0) {
        uint8_t exponent = bytes[config::kPhysicalBlockExponent];
        if (exponent < 16) result.physical_block_size = result.block_size << exponent;
    }
    result.read_only = (features & kFeatureReadOnly) != 0;
    result.flush = (features & kFeatureFlush) != 0;
    if ((features & kFeatureDiscard) != 0 && field32(config::kMaximumDiscardSegments) != 0) {
        result.discard = true;
        result.max_discard_sectors = field32(config::kMaximumDiscardSectors);
    }
    *geometry = result;
    return true;
}

// One request queue of a virtio-blk device.
class BlockQueue {
public:
    // `slots`: driver DMA memory of kSlotBytes per queue entry (queue.size() entries).
    bool initialize(SplitQueue& queue, const QueueMemory& slots, const Geometry& geometry) {
        if (slots.cpu == nullptr || slots.length < uint64_t(queue.size()) * kSlotBytes)
            return false;
        queue_ = &queue;
        slots_ = slots;
        geometry_ = geometry;
        __builtin_memset(slots.cpu, 0, uint64_t(queue.size()) * kSlotBytes);
        return true;
    }

    // The most one read or write moves: what the device's segment limits allow, in whole blocks.
    uint64_t largest_transfer() const {
        uint64_t segment = geometry_.size_max == 0 ? (1ull << 22) : geometry_.size_max;
        uint64_t segments =
            geometry_.segment_max < kDataSegments ? geometry_.segment_max : kDataSegments;
        uint64_t bytes = segment * segments;
        return bytes - bytes % geometry_.block_size;
    }

    // Checks and submits. `sector` in 512-byte units; `data`/`length` the caller's DMA
    // buffer (read: the device writes it; write: reads it; flush: none; discard: none,
    // `length` bytes of sectors are discarded). Errors, none submitted: EROFS (write or
    // discard on a read-only device), EINVAL (length not a whole number of blocks, 0, or a
    // sector not on a block boundary), ERANGE (past the capacity), E2BIG (more than
    // largest_transfer()), EOPNOTSUPP (a discard or flush the device does not offer), EAGAIN (the
    // queue is full), EIO (the queue is broken: reset the device).
    int32_t submit(Operation operation, uint64_t sector, uint64_t data, uint32_t length,
                   uint64_t token, uint64_t route = 0) {
        if (queue_->problem() != QueueProblem::None) return UMKA_KABI_EIO;
        if ((operation == Operation::Write || operation == Operation::Discard) &&
            geometry_.read_only) {
            return UMKA_KABI_EROFS;
        }
        // Without VIRTIO_BLK_F_FLUSH the device takes no flush command (its cache is
        // write-through): refused here, so no caller takes it for a durable point.
        if (operation == Operation::Flush && !geometry_.flush) return kNotSupported;
        if (operation != Operation::Flush) {
            uint32_t sectors_per_block = geometry_.block_size / kSectorBytes;
            if (length == 0 || length % geometry_.block_size != 0 ||
                sector % sectors_per_block != 0) {
                return UMKA_KABI_EINVAL;
            }
            uint64_t count = length / kSectorBytes;
            if (sector > geometry_.sectors || count > geometry_.sectors - sector)
                return UMKA_KABI_ERANGE;
            if (operation == Operation::Discard) {
                if (!geometry_.discard) return kNotSupported;
                if (geometry_.max_discard_sectors != 0 && count > geometry_.max_discard_sectors) {
                    return UMKA_KABI_E2BIG;
                }
            } else if (length > largest_transfer()) {
                return UMKA_KABI_E2BIG;
            }
        }
        uint16_t slot = 0;
        if (!take_slot(&slot)) return UMKA_KABI_EAGAIN;
        Slot& record = slot_at(slot);
        // The sector field is for reads and writes only (§5.2.6); a discard names its range.
        bool addressed = operation == Operation::Read || operation == Operation::Write;
        record.header = Header{request_type(operation), 0, addressed ? sector : 0};
        record.status = 0xFF;  // a device that never writes it reads as an error
        record.token = token;
        record.route = route;
        Segment segments[kMaximumSegments];
        uint16_t count = 0;
        segments[count++] =
            Segment{slot_device(slot) + offsetof(Slot, header), sizeof(Header), false};
        if (operation == Operation::Discard) {
            record.discard = DiscardRange{sector, length / kSectorBytes, 0};
            segments[count++] =
                Segment{slot_device(slot) + offsetof(Slot, discard), sizeof(DiscardRange), false};
        } else if (operation != Operation::Flush) {
            uint64_t segment_bytes = geometry_.size_max == 0 ? length : geometry_.size_max;
            for (uint64_t offset = 0; offset < length; offset += segment_bytes) {
                uint64_t bytes = length - offset < segment_bytes ? length - offset : segment_bytes;
                segments[count++] =
                    Segment{data + offset, uint32_t(bytes), operation == Operation::Read};
            }
        }
        segments[count++] = Segment{slot_device(slot) + offsetof(Slot, status), 1, true};
        SubmitResult result = queue_->submit(segments, count, slot);
        if (result != SubmitResult::Submitted) {
            record.in_use = 0;
            return result == SubmitResult::NoRoom ? UMKA_KABI_EAGAIN : UMKA_KABI_EIO;
        }
        return UMKA_KABI_OK;
    }

    // One completion: its token, errno (OK, EIO for VIRTIO_BLK_S_IOERR or a status the
    // device did not write, EOPNOTSUPP for VIRTIO_BLK_S_UNSUPP) and the route it was
    // submitted with (where the driver sends the completion; this library never reads it).
    PollResult poll(uint64_t* token, int32_t* result, uint64_t* route = nullptr) {
        Completion completion{};
        PollResult polled = queue_->poll(&completion);
        if (polled != PollResult::Completed) return polled;
        uint16_t slot = uint16_t(completion.token);
        Slot& record = slot_at(slot);
        *token = record.token;
        if (route != nullptr) *route = record.route;
        uint8_t status = __atomic_load_n(&record.status, __ATOMIC_ACQUIRE);
        *result = status == kStatusOk            ? UMKA_KABI_OK
                  : status == kStatusUnsupported ? kNotSupported
                                                 : UMKA_KABI_EIO;
        record.in_use = 0;
        return PollResult::Completed;
    }

    // After a device reset: every request in flight completes with EIO, once
    // (`complete(token, result)`, or `complete(token, result, route)`).
    template <typename Complete>
    uint16_t fail_in_flight(Complete&& complete) {
        return queue_->drain([&](uint64_t slot) {
            Slot& record = slot_at(uint16_t(slot));
            if constexpr (requires { complete(record.token, int32_t(0), record.route); }) {
                complete(record.token, int32_t(UMKA_KABI_EIO), record.route);
            } else {
                complete(record.token, int32_t(UMKA_KABI_EIO));
            }
            record.in_use = 0;
        });
    }

    // After a device reset, the requests an earlier instance of this driver left in flight
    // in its queue of `size` entries (`rings`, SplitQueue::drain_abandoned) and its request
    // `slots`: each completes with EIO, once (`complete(token, result, route)`). A token
    // that names no slot in use is skipped. Returns how many completed.
    template <typename Complete>
    static uint16_t fail_abandoned(const QueueMemory& rings, uint16_t size,
                                   const QueueMemory& slots, Complete&& complete) {
        if (slots.cpu == nullptr || slots.length < uint64_t(size) * kSlotBytes) return 0;
        uint16_t failed = 0;
        SplitQueue::drain_abandoned(rings, size, [&](uint64_t token) {
            if (token >= size) return;
            Slot& record = reinterpret_cast<Slot*>(slots.cpu)[token];
            if (record.in_use == 0) return;
            complete(record.token, int32_t(UMKA_KABI_EIO), record.route);
            record.in_use = 0;
            ++failed;
        });
        return failed;
    }

    const Geometry& geometry() const { return geometry_; }
    SplitQueue& queue() { return *queue_; }

private:
    static constexpr int32_t kNotSupported = UMKA_KABI_EOPNOTSUPP;
    static constexpr uint8_t kStatusOk = 0;
    static constexpr uint8_t kStatusUnsupported = 2;

    struct Header {
        uint32_t type;
        uint32_t reserved;
        uint64_t sector;
    };
    struct DiscardRange {
        uint64_t sector;
        uint32_t sectors;
        uint32_t flags;
    };
    struct Slot {
        Header header;         // device reads
        DiscardRange discard;  // device reads
        uint8_t status;        // device writes
        uint8_t in_use;
        uint8_t reserved[6];
        uint64_t token;  // the driver's
        uint64_t route;  // the driver's
        uint64_t padding;
    };
    static_assert(sizeof(Slot) == kSlotBytes);

    static uint32_t request_type(Operation operation) {
        switch (operation) {
        case Operation::Read:
            return 0;  // VIRTIO_BLK_T_IN
        case Operation::Write:
            return 1;  // VIRTIO_BLK_T_OUT
        case Operation::Flush:
            return 4;  // VIRTIO_BLK_T_FLUSH
        case Operation::Discard:
            return 11;  // VIRTIO_BLK_T_DISCARD
        }
        return 0;
    }
    Slot& slot_at(uint16_t slot) { return reinterpret_cast<Slot*>(slots_.cpu)[slot]; }
    uint64_t slot_device(uint16_t slot) const {
        return slots_.device + uint64_t(slot) * kSlotBytes;
    }
    bool take_slot(uint16_t* slot) {
        for (uint16_t index = 0; index < queue_->size(); ++index) {
            uint16_t candidate = uint16_t((next_slot_ + index) & (queue_->size() - 1));
            if (slot_at(candidate).in_use == 0) {
                slot_at(candidate).in_use = 1;
                next_slot_ = uint16_t(candidate + 1);
                *slot = candidate;
                return true;
            }
        }
        return false;
    }

    SplitQueue* queue_ = nullptr;
    QueueMemory slots_{};
    Geometry geometry_{};
    uint16_t next_slot_ = 0;
};

}  // namespace umka::virtio::block
