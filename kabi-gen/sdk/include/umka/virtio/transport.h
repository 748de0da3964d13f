// The virtio 1.x modern PCI transport, driver side (virtio 1.2 §4.1.4): the common
// configuration structure, feature negotiation and the device-status protocol of §3.1.1,
// queue setup, notification, the ISR and device configuration read under the
// configuration generation. Pure over Registers (the structures the PCI capabilities
// locate: bus_access.Mmio windows in a driver module, a device model in host tests), so
// this one header-only copy serves every virtio driver.
#pragma once

#include <stdint.h>

#include "umka/virtio/split_queue.h"

namespace umka::virtio {

enum class Structure : uint8_t { Common, Notify, Isr, Device };

// Access to the transport's structures; offsets are within the structure.
class Registers {
public:
    virtual uint32_t read(Structure structure, uint32_t offset, uint8_t bytes) = 0;
    virtual void write(Structure structure, uint32_t offset, uint8_t bytes, uint32_t value) = 0;

protected:
    ~Registers() = default;
};

// Common configuration (struct virtio_pci_common_cfg).
namespace common {
inline constexpr uint32_t kDeviceFeatureSelect = 0x00;
inline constexpr uint32_t kDeviceFeature = 0x04;
inline constexpr uint32_t kDriverFeatureSelect = 0x08;
inline constexpr uint32_t kDriverFeature = 0x0C;
inline constexpr uint32_t kConfigMsixVector = 0x10;
inline constexpr uint32_t kQueueCount = 0x12;
inline constexpr uint32_t kDeviceStatus = 0x14;
inline constexpr uint32_t kConfigGeneration = 0x15;
inline constexpr uint32_t kQueueSelect = 0x16;
inline constexpr uint32_t kQueueSize = 0x18;
inline constexpr uint32_t kQueueMsixVector = 0x1A;
inline constexpr uint32_t kQueueEnable = 0x1C;
inline constexpr uint32_t kQueueNotifyOffset = 0x1E;
inline constexpr uint32_t kQueueDescriptors = 0x20;
inline constexpr uint32_t kQueueDriver = 0x28;
inline constexpr uint32_t kQueueDevice = 0x30;
}  // namespace common

namespace status {
inline constexpr uint8_t kAcknowledge = 1;
inline constexpr uint8_t kDriver = 2;
inline constexpr uint8_t kDriverOk = 4;
inline constexpr uint8_t kFeaturesOk = 8;
inline constexpr uint8_t kNeedsReset = 64;
inline constexpr uint8_t kFailed = 128;
}  // namespace status

inline constexpr uint64_t kFeatureIndirect = 1ull << 28;
inline constexpr uint64_t kFeatureEventIndex = 1ull << 29;
inline constexpr uint64_t kFeatureVersion1 = 1ull << 32;
inline constexpr uint16_t kNoVector = 0xFFFF;

enum class TransportProblem : uint8_t {
    None,
    ResetTimedOut,    // device_status never read back 0 after the reset write
    NotModern,        // VIRTIO_F_VERSION_1 not offered
    FeaturesRefused,  // FEATURES_OK did not stick
    QueueMissing,     // queue index at or past num_queues, or its size is 0
    QueueTooLarge,    // queue size above what the driver was given memory for
    ConfigUnstable,   // the configuration generation kept changing
    NeedsReset,       // the device set DEVICE_NEEDS_RESET
    NotifyOutside,    // queue_notify_off * multiplier past the notify structure
    ConfigOutside,    // a configuration read past the device structure
    VectorRefused,    // the queue's MSI-X vector read back as NO_VECTOR
};

inline const char* transport_problem_name(TransportProblem problem) {
    switch (problem) {
    case TransportProblem::None:
        return "none";
    case TransportProblem::ResetTimedOut:
        return "device did not finish its reset";
    case TransportProblem::NotModern:
        return "device does not offer VIRTIO_F_VERSION_1";
    case TransportProblem::FeaturesRefused:
        return "device refused the negotiated features";
    case TransportProblem::QueueMissing:
        return "queue missing or of size 0";
    case TransportProblem::QueueTooLarge:
        return "queue larger than its memory";
    case TransportProblem::ConfigUnstable:
        return "device configuration kept changing";
    case TransportProblem::NotifyOutside:
        return "queue doorbell outside the notify structure";
    case TransportProblem::ConfigOutside:
        return "configuration read outside the device structure";
    case TransportProblem::VectorRefused:
        return "device refused the queue's MSI-X vector";
    case TransportProblem::NeedsReset:
        return "device set DEVICE_NEEDS_RESET";
    }
    return "?";
}

inline constexpr uint32_t kResetPolls = 100000;
inline constexpr uint32_t kConfigReadAttempts = 16;

class Transport {
public:
    // Where the PCI vendor capabilities put the structures: the notify multiplier and the
    // lengths of the notify and device structures, which bound what the device can make
    // the driver touch.
    struct Layout {
        uint32_t notify_multiplier;
        uint32_t notify_length;
        uint32_t device_length;
    };

    Transport(Registers& registers, const Layout& layout)
        : registers_(registers), layout_(layout) {}

    // Reset, ACKNOWLEDGE, DRIVER; then the features both sides know: `wanted` (what the
    // driver can use) of what the device offers, VERSION_1 required. FEATURES_OK is set and
    // read back. Queues are set up next (setup_queue), then ready().
    TransportProblem negotiate(uint64_t wanted, uint64_t* accepted) {
        TransportProblem reset_problem = reset();
        if (reset_problem != TransportProblem::None) return reset_problem;
        set_status(status::kAcknowledge);
        set_status(status::kAcknowledge | status::kDriver);
        uint64_t offered = 0;
        for (uint32_t half = 0; half < 2; ++half) {
            write32(Structure::Common, common::kDeviceFeatureSelect, half);
            offered |= uint64_t(read32(Structure::Common, common::kDeviceFeature)) << (32 * half);
        }
        if ((offered & kFeatureVersion1) == 0) return fail(TransportProblem::NotModern);
        uint64_t features = offered & (wanted | kFeatureVersion1);
        for (uint32_t half = 0; half < 2; ++half) {
            write32(Structure::Common, common::kDriverFeatureSelect, half);
            write32(Structure::Common, common::kDriverFeature, uint32_t(features >> (32 * half)));
        }
        set_status(status::kAcknowledge | status::kDriver | status::kFeaturesOk);
        if ((device_status() & status::kFeaturesOk) == 0)
            return fail(TransportProblem::FeaturesRefused);
        features_ = features;
        *accepted = features;
        return TransportProblem::None;
    }

    uint16_t queue_count() { return uint16_t(read(Structure::Common, common::kQueueCount, 2)); }

    // The device's size for queue `index` (0: absent), before setup.
    uint16_t queue_size(uint16_t index) {
        write(Structure::Common, common::kQueueSelect, 2, index);
        return uint16_t(read(Structure::Common, common::kQueueSize, 2));
    }

    // Sets queue `index` up over `memory` at the device's size, capped to `largest` (the
    // driver gave memory for that many), with interrupt vector `vector` (kNoVector: none).
    TransportProblem setup_queue(uint16_t index, SplitQueue& queue, const QueueMemory& memory,
                                 uint16_t largest, uint16_t vector) {
        // Beyond kMaximumQueues there is no room for the queue's notify offset: refused,
        // rather than ringing another queue's doorbell.
        if (index >= queue_count() || index >= kMaximumQueues) {
            return fail(TransportProblem::QueueMissing);
        }
        uint16_t size = queue_size(index);
        if (size == 0) return fail(TransportProblem::QueueMissing);
        if (size > largest) {
            // The device allows a smaller size than it offers (any power of two for split
            // queues); a size that is not a power of two is taken down to one.
            size = largest;
        }
        while ((size & (size - 1)) != 0) size = uint16_t(size & (size - 1));
        if (!queue.initialize(memory, size, (features_ & kFeatureIndirect) != 0,
                              (features_ & kFeatureEventIndex) != 0)) {
            return fail(TransportProblem::QueueTooLarge);
        }
        write(Structure::Common, common::kQueueSize, 2, size);
        write(Structure::Common, common::kQueueMsixVector, 2, vector);
        // §4.1.5.1.2: a vector the device could not allocate reads back as NO_VECTOR.
        if (vector != kNoVector &&
            read(Structure::Common, common::kQueueMsixVector, 2) == kNoVector) {
            return fail(TransportProblem::VectorRefused);
        }
        write64(common::kQueueDescriptors, queue.descriptor_table_address());
        write64(common::kQueueDriver, queue.driver_area_address());
        write64(common::kQueueDevice, queue.device_area_address());
        uint16_t notify_offset = uint16_t(read(Structure::Common, common::kQueueNotifyOffset, 2));
        // The doorbell is a 2-byte write at offset * multiplier: it must stay in the structure
        // (64-bit product: a device-chosen offset must not wrap it back inside).
        if (uint64_t(notify_offset) * layout_.notify_multiplier + 2 > layout_.notify_length) {
            return fail(TransportProblem::NotifyOutside);
        }
        notify_offsets_[index] = notify_offset;
        write(Structure::Common, common::kQueueEnable, 2, 1);
        return TransportProblem::None;
    }

    void ready() {
        set_status(status::kAcknowledge | status::kDriver | status::kFeaturesOk |
                   status::kDriverOk);
    }

    // Tells the device queue `index` (one that setup_queue accepted) has new buffers.
    void notify(uint16_t index) {
        if (index >= kMaximumQueues) return;
        uint32_t offset = uint32_t(notify_offsets_[index]) * layout_.notify_multiplier;
        write(Structure::Notify, offset, 2, index);
    }

    // Reading the ISR acknowledges it: bit 0 a queue interrupt, bit 1 a configuration change.
    uint8_t interrupt_status() { return uint8_t(read(Structure::Isr, 0, 1)); }

    // DEVICE_NEEDS_RESET seen (the driver must reset and set the device up again).
    bool needs_reset() { return (device_status() & status::kNeedsReset) != 0; }

    // Reads device configuration bytes [offset, offset + length) consistently: again while
    // the configuration generation changes under the read, at most kConfigReadAttempts.
    TransportProblem read_config(uint32_t offset, void* out, uint32_t length) {
        if (uint64_t(offset) + length > layout_.device_length) {
            return fail(TransportProblem::ConfigOutside);
        }
        auto* bytes = static_cast<uint8_t*>(out);
        for (uint32_t attempt = 0; attempt < kConfigReadAttempts; ++attempt) {
            uint32_t before = read(Structure::Common, common::kConfigGeneration, 1);
            for (uint32_t index = 0; index < length;) {
                uint32_t remaining = length - index;
                uint8_t width = remaining >= 4 && ((offset + index) & 3) == 0   ? 4
                                : remaining >= 2 && ((offset + index) & 1) == 0 ? 2
                                                                                : 1;
                uint32_t value = read(Structure::Device, offset + index, width);
                for (uint8_t byte = 0; byte < width; ++byte)
                    bytes[index + byte] = uint8_t(value >> (8 * byte));
                index += width;
            }
            if (read(Structure::Common, common::kConfigGeneration, 1) == before) {
                return TransportProblem::None;
            }
        }
        return fail(TransportProblem::ConfigUnstable);
    }

    // Resets the device (writes 0, waits for 0 to read back).
    TransportProblem reset() {
        write(Structure::Common, common::kDeviceStatus, 1, 0);
        for (uint32_t poll = 0; poll < kResetPolls; ++poll) {
            if (device_status() == 0) return TransportProblem::None;
        }
        return fail(TransportProblem::ResetTimedOut);
    }

    // Tells the device the driver gave up on it.
    void set_failed() { set_status(uint8_t(device_status() | status::kFailed)); }

    uint8_t device_status() { return uint8_t(read(Structure::Common, common::kDeviceStatus, 1)); }
    uint64_t features() const { return features_; }
    TransportProblem problem() const { return problem_; }

private:
    static constexpr uint16_t kMaximumQueues = 8;

    uint32_t read(Structure structure, uint32_t offset, uint8_t bytes) {
        return registers_.read(structure, offset, bytes);
    }
    void write(Structure structure, uint32_t offset, uint8_t bytes, uint32_t value) {
        registers_.write(structure, offset, bytes, value);
    }
    uint32_t read32(Structure structure, uint32_t offset) { return read(structure, offset, 4); }
    void write32(Structure structure, uint32_t offset, uint32_t value) {
        write(structure, offset, 4, value);
    }
    // 64-bit fields as two 32-bit writes, low half first (§4.1.3.1 allows it).
    void write64(uint32_t offset, uint64_t value) {
        write32(Structure::Common, offset, uint32_t(value));
        write32(Structure::Common, offset + 4, uint32_t(value >> 32));
    }
    void set_status(uint8_t value) { write(Structure::Common, common::kDeviceStatus, 1, value); }
    TransportProblem fail(TransportProblem problem) {
        problem_ = problem;
        return problem;
    }

    Registers& registers_;
    Layout layout_;
    uint64_t features_ = 0;
    uint16_t notify_offsets_[kMaximumQueues] = {};
    TransportProblem problem_ = TransportProblem::None;
};

}  // namespace umka::virtio
