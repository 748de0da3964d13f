#include "virtio_blk_model.h"

#include <cstring>

namespace umka::virtio::testing {
namespace {

template <typename T>
T* at(uint64_t address) {
    return reinterpret_cast<T*>(static_cast<uintptr_t>(address));
}

constexpr uint32_t kTypeIn = 0;
constexpr uint32_t kTypeOut = 1;
constexpr uint32_t kTypeFlush = 4;
constexpr uint32_t kTypeDiscard = 11;
constexpr uint8_t kStatusOk = 0;
constexpr uint8_t kStatusIoError = 1;
constexpr uint8_t kStatusUnsupported = 2;

uint32_t field(const uint8_t* bytes, uint32_t offset, uint8_t width) {
    uint32_t value = 0;
    std::memcpy(&value, bytes + offset, width);
    return value;
}

}  // namespace

VirtioBlkModel::VirtioBlkModel(uint64_t sectors, uint64_t features)
    : disk_(sectors * 512), features_(features) {}

uint32_t VirtioBlkModel::read(Structure structure, uint32_t offset, uint8_t bytes) {
    if (structure == Structure::Isr) {
        uint8_t isr = isr_;
        isr_ = 0;
        return isr;
    }
    if (structure == Structure::Device) {
        uint8_t config[64] = {};
        uint64_t capacity = disk_.size() / 512;
        std::memcpy(config + 0, &capacity, 8);
        std::memcpy(config + 8, &size_max_, 4);
        std::memcpy(config + 12, &segment_max_, 4);
        std::memcpy(config + 20, &block_size_, 4);
        config[24] = 0;  // physical block exponent
        uint16_t queues = 1;
        std::memcpy(config + 34, &queues, 2);
        uint32_t discard_sectors = 1u << 16, discard_segments = 1, discard_alignment = 8;
        std::memcpy(config + 36, &discard_sectors, 4);
        std::memcpy(config + 40, &discard_segments, 4);
        std::memcpy(config + 44, &discard_alignment, 4);
        return offset + bytes <= sizeof config ? field(config, offset, bytes) : 0;
    }
    if (structure != Structure::Common) return 0;
    uint64_t offered = features_ | (fault_ == Fault::NotModern ? 0 : kFeatureVersion1);
    switch (offset) {
    case common::kDeviceFeatureSelect:
        return device_feature_select_;
    case common::kDeviceFeature:
        return device_feature_select_ < 2 ? uint32_t(offered >> (32 * device_feature_select_)) : 0;
    case common::kDriverFeatureSelect:
        return driver_feature_select_;
    case common::kDriverFeature:
        return driver_feature_select_ < 2
                   ? uint32_t(driver_features_ >> (32 * driver_feature_select_))
                   : 0;
    case common::kConfigMsixVector:
        return 0xFFFF;
    case common::kQueueCount:
        return 1;
    case common::kDeviceStatus:
        return status_;
    case common::kConfigGeneration:
        if (fault_ == Fault::ConfigAlwaysChanging) ++generation_;
        return generation_;
    case common::kQueueSize:
        return fault_ == Fault::QueueSizeZero ? 0 : queue_size_;
    case common::kQueueMsixVector:
        return fault_ == Fault::RefuseVector ? 0xFFFF : queue_vector_;
    case common::kQueueEnable:
        return queue_enable_;
    case common::kQueueNotifyOffset:
        return fault_ == Fault::NotifyOffsetHuge ? 0xFFFF : 0;
    default:
        return 0;
    }
}

void VirtioBlkModel::write(Structure structure, uint32_t offset, uint8_t bytes, uint32_t value) {
    (void)bytes;
    if (structure == Structure::Notify) {
        ++notifications_;
        if (fault_ == Fault::NeedsResetAfterNext) {
            status_ |= status::kNeedsReset;
            isr_ |= 2;
            fault_ = Fault::None;
            return;
        }
        if (!held_) process();
        return;
    }
    if (structure != Structure::Common) return;
    auto set_half = [&](uint64_t& target, uint32_t base) {
        uint32_t shift = offset == base ? 0 : 32;
        target = (target & ~(0xFFFFFFFFull << shift)) | (uint64_t(value) << shift);
    };
    switch (offset) {
    case common::kDeviceFeatureSelect:
        device_feature_select_ = value;
        break;
    case common::kDriverFeatureSelect:
        driver_feature_select_ = value;
        break;
    case common::kDriverFeature:
        if (driver_feature_select_ < 2) {
            uint32_t shift = 32 * driver_feature_select_;
            driver_features_ =
                (driver_features_ & ~(0xFFFFFFFFull << shift)) | (uint64_t(value) << shift);
        }
        break;
    case common::kDeviceStatus:
        if (value == 0) {  // reset: everything the driver set up is forgotten
            status_ = 0;
            driver_features_ = 0;
            queue_enable_ = 0;
            queue_size_ = kQueueSize;
            last_available_ = 0;
            used_index_ = 0;
            descriptors_ = driver_area_ = device_area_ = 0;
            break;
        }
        status_ = uint8_t(value);
        if ((status_ & status::kFeaturesOk) != 0 &&
            (fault_ == Fault::RefuseFeatures ||
             (driver_features_ & ~(features_ | kFeatureVersion1)) != 0)) {
            status_ &= uint8_t(~status::kFeaturesOk);
        }
        break;
    case common::kQueueSize:
        queue_size_ = uint16_t(value);
        break;
    case common::kQueueMsixVector:
        queue_vector_ = uint16_t(value);
        break;
    case common::kQueueEnable:
        queue_enable_ = uint16_t(value);
        break;
    case common::kQueueDescriptors:
    case common::kQueueDescriptors + 4:
        set_half(descriptors_, common::kQueueDescriptors);
        break;
    case common::kQueueDriver:
    case common::kQueueDriver + 4:
        set_half(driver_area_, common::kQueueDriver);
        break;
    case common::kQueueDevice:
    case common::kQueueDevice + 4:
        set_half(device_area_, common::kQueueDevice);
        break;
    default:
        break;
    }
}

bool VirtioBlkModel::gather(uint16_t head, std::vector<Buffer>& buffers) {
    const Descriptor* table = at<Descriptor>(descriptors_);
    uint16_t index = head;
    for (uint32_t step = 0; step < queue_size_; ++step) {
        const Descriptor& descriptor = table[index % queue_size_];
        if ((descriptor.flags & kDescriptorIndirect) != 0) {
            used_indirect_ = true;
            const Descriptor* indirect = at<Descriptor>(descriptor.address);
            uint32_t count = descriptor.length / sizeof(Descriptor);
            for (uint32_t entry = 0; entry < count; ++entry) {
                buffers.push_back(Buffer{at<uint8_t>(indirect[entry].address),
                                         indirect[entry].length,
                                         (indirect[entry].flags & kDescriptorWrite) != 0});
                if ((indirect[entry].flags & kDescriptorNext) == 0) break;
            }
            return true;
        }
        buffers.push_back(Buffer{at<uint8_t>(descriptor.address), descriptor.length,
                                 (descriptor.flags & kDescriptorWrite) != 0});
        if ((descriptor.flags & kDescriptorNext) == 0) return true;
        index = descriptor.next;
    }
    return false;  // a chain longer than the queue: a loop
}

uint32_t VirtioBlkModel::execute(const std::vector<Buffer>& buffers) {
    ++requests_;
    if (buffers.size() > largest_chain_) largest_chain_ = uint16_t(buffers.size());
    if (buffers.size() < 2 || buffers.front().length < 16 || buffers.back().length < 1 ||
        !buffers.back().device_writes) {
        return 0;
    }
    uint32_t type = field(buffers.front().data, 0, 4);
    uint64_t sector = 0;
    std::memcpy(&sector, buffers.front().data + 8, 8);
    uint8_t outcome = kStatusOk;
    uint32_t written = 0;
    uint64_t position = sector * 512;
    if (type == kTypeIn || type == kTypeOut) {
        for (size_t index = 1; index + 1 < buffers.size(); ++index) {
            const Buffer& buffer = buffers[index];
            if (position + buffer.length > disk_.size() ||
                buffer.device_writes != (type == kTypeIn)) {
                outcome = kStatusIoError;
                break;
            }
            if (type == kTypeIn) {
                std::memcpy(buffer.data, disk_.data() + position, buffer.length);
                written += buffer.length;
            } else {
                std::memcpy(disk_.data() + position, buffer.data, buffer.length);
            }
            position += buffer.length;
        }
    } else if (type == kTypeFlush) {
        ++flushes_;
    } else if (type == kTypeDiscard && buffers.size() == 3 && buffers[1].length >= 16) {
        uint64_t first = 0;
        uint32_t count = 0;
        std::memcpy(&first, buffers[1].data, 8);
        std::memcpy(&count, buffers[1].data + 8, 4);
        if ((first + count) * 512 > disk_.size()) {
            outcome = kStatusIoError;
        } else {
            std::memset(disk_.data() + first * 512, 0, size_t(count) * 512);
            discarded_sectors_ += count;
        }
    } else {
        outcome = kStatusUnsupported;
    }
    if (fault_ == Fault::SilentStatus) {
        fault_ = Fault::None;
        return written;
    }
    buffers.back().data[0] = outcome;
    return written + 1;
}

void VirtioBlkModel::complete(uint16_t id, uint32_t written) {
    uint16_t* used = at<uint16_t>(device_area_);
    auto* ring = reinterpret_cast<UsedElement*>(used + 2);
    uint32_t claimed_id = id;
    if (fault_ == Fault::UsedIdOutOfRange) {
        claimed_id = 0xFFFF;
        fault_ = Fault::None;
    } else if (fault_ == Fault::UsedLengthTooLarge) {
        written = 1u << 20;
        fault_ = Fault::None;
    }
    ring[used_index_ % queue_size_] = UsedElement{claimed_id, written};
    ++used_index_;
    __atomic_store_n(&used[1], used_index_, __ATOMIC_RELEASE);
    isr_ |= 1;
}

void VirtioBlkModel::process() {
    if ((status_ & status::kDriverOk) == 0 || queue_enable_ == 0) return;
    uint16_t* available = at<uint16_t>(driver_area_);
    uint16_t available_index = __atomic_load_n(&available[1], __ATOMIC_ACQUIRE);
    bool completed = false;
    while (last_available_ != available_index) {
        uint16_t head = available[2 + last_available_ % queue_size_];
        ++last_available_;
        std::vector<Buffer> buffers;
        uint32_t written = gather(head, buffers) ? execute(buffers) : 0;
        complete(head, written);
        completed = true;
    }
    if (completed && queue_vector_ != 0xFFFF) ++interrupts_;
    // VIRTIO_F_EVENT_IDX: notify me once you make available past this one.
    uint16_t* used = at<uint16_t>(device_area_);
    auto* ring = reinterpret_cast<UsedElement*>(used + 2);
    uint16_t event = available_event_request_ != 0 ? available_event_request_ : last_available_;
    __atomic_store_n(reinterpret_cast<uint16_t*>(ring + queue_size_), event, __ATOMIC_RELEASE);
}

}  // namespace umka::virtio::testing
