// A virtio-blk device behind the modern PCI transport, for host tests of the virtio
// library (kabi-gen/sdk/include/umka/virtio/): the common configuration, notify, ISR and
// device-configuration structures as umka::virtio::Registers, and a device that, when
// notified, walks the available ring (direct chains and indirect tables), does the
// request on an in-memory disk and writes the used ring. DMA is host memory: a device
// address is the host pointer's value.
//
// Misbehaviour on demand (Fault), to test that the driver side checks what the device says.
#pragma once

#include <stdint.h>

#include <vector>

#include "umka/virtio/transport.h"

namespace umka::virtio::testing {

enum class Fault : uint8_t {
    None,
    UsedIdOutOfRange,      // the next completion names id 0xFFFF
    UsedLengthTooLarge,    // the next completion claims 1 MiB written
    QueueSizeZero,         // queue 0 reports size 0
    ConfigAlwaysChanging,  // config_generation changes on every read
    NotModern,             // VIRTIO_F_VERSION_1 not offered
    RefuseFeatures,        // FEATURES_OK does not stick
    NeedsResetAfterNext,   // the next notify sets DEVICE_NEEDS_RESET and completes nothing
    SilentStatus,          // completes requests without writing their status byte
    NotifyOffsetHuge,      // queue_notify_off reads 0xFFFF
    RefuseVector,          // queue_msix_vector reads back NO_VECTOR
};

class VirtioBlkModel final : public Registers {
public:
    static constexpr uint16_t kQueueSize = 64;
    static constexpr uint32_t kNotifyMultiplier = 4;
    // The structures' lengths, as QEMU's capabilities give them.
    static constexpr Transport::Layout kLayout{kNotifyMultiplier, 0x1000, 0x1000};

    VirtioBlkModel(uint64_t sectors, uint64_t features);

    uint32_t read(Structure structure, uint32_t offset, uint8_t bytes) override;
    void write(Structure structure, uint32_t offset, uint8_t bytes, uint32_t value) override;

    std::vector<uint8_t>& disk() { return disk_; }
    void set_fault(Fault fault) { fault_ = fault; }
    // Notifications are taken but not served until serve() (requests stay in flight).
    void hold(bool held) { held_ = held; }
    void serve() { process(); }
    void set_block_size(uint32_t bytes) { block_size_ = bytes; }
    void set_size_max(uint32_t bytes) { size_max_ = bytes; }
    void set_segment_max(uint32_t segments) { segment_max_ = segments; }
    void set_available_event(uint16_t event) { available_event_request_ = event; }

    uint8_t status() const { return status_; }
    uint64_t driver_features() const { return driver_features_; }
    uint64_t notifications() const { return notifications_; }
    uint64_t requests() const { return requests_; }
    uint64_t flushes() const { return flushes_; }
    uint64_t discarded_sectors() const { return discarded_sectors_; }
    uint16_t queue_size_set() const { return queue_size_; }
    bool used_indirect() const { return used_indirect_; }
    uint16_t largest_chain() const { return largest_chain_; }
    // The MSI-X vector the driver gave queue 0 (0xFFFF: none, the driver polls).
    uint16_t queue_vector() const { return queue_vector_; }
    // Interrupts the device would have raised: one per pass that completed something on a
    // queue with a vector (a driver test delivers them to the driver's IrqHandler).
    uint64_t interrupts() const { return interrupts_; }

private:
    struct Buffer {
        uint8_t* data;
        uint32_t length;
        bool device_writes;
    };
    void process();
    bool gather(uint16_t head, std::vector<Buffer>& buffers);
    uint32_t execute(const std::vector<Buffer>& buffers);
    void complete(uint16_t id, uint32_t written);

    std::vector<uint8_t> disk_;
    uint64_t features_;
    uint64_t driver_features_ = 0;
    uint32_t device_feature_select_ = 0;
    uint32_t driver_feature_select_ = 0;
    uint8_t status_ = 0;
    uint8_t generation_ = 0;
    uint16_t queue_size_ = kQueueSize;
    uint16_t queue_enable_ = 0;
    uint16_t queue_vector_ = 0xFFFF;
    uint64_t descriptors_ = 0;
    uint64_t driver_area_ = 0;
    uint64_t device_area_ = 0;
    uint16_t last_available_ = 0;
    uint16_t used_index_ = 0;
    uint8_t isr_ = 0;
    uint32_t block_size_ = 512;
    uint32_t size_max_ = 65536;
    uint32_t segment_max_ = 32;
    uint16_t available_event_request_ = 0;
    Fault fault_ = Fault::None;
    bool held_ = false;
    uint64_t notifications_ = 0;
    uint64_t requests_ = 0;
    uint64_t flushes_ = 0;
    uint64_t discarded_sectors_ = 0;
    bool used_indirect_ = false;
    uint16_t largest_chain_ = 0;
    uint64_t interrupts_ = 0;
};

}  // namespace umka::virtio::testing
