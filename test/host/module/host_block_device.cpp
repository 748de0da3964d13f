// The host block device of module tests (host_block_device.h).
#include "host_block_device.h"

#include <algorithm>
#include <cstring>

namespace umka::harness {

HostBlockDriver::HostBlockDriver(HostDma& dma, std::vector<RamDisk> disks)
    : dma_(dma), disks_(std::move(disks)), thread_([this] { run(); }) {}

HostBlockDriver::~HostBlockDriver() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void HostBlockDriver::hold_completions(bool hold) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        hold_ = hold;
    }
    wake_.notify_all();
}

void HostBlockDriver::wait_idle() {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [this] { return ready_.empty() && !busy_; });
}

uint64_t HostBlockDriver::requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
}

uint64_t HostBlockDriver::highest_sector() {
    std::lock_guard<std::mutex> lock(mutex_);
    return highest_sector_;
}

std::vector<uint64_t> HostBlockDriver::first_sectors() {
    std::lock_guard<std::mutex> lock(mutex_);
    return first_sectors_;
}

uint64_t HostBlockDriver::routed() {
    std::lock_guard<std::mutex> lock(mutex_);
    return routed_;
}

uint32_t HostBlockDriver::most_in_flight() {
    std::lock_guard<std::mutex> lock(mutex_);
    return most_in_flight_;
}

// Checks what virtio-blk would refuse, so a module bug shows as a refusal here.
KabiStatus HostBlockDriver::submit(uint32_t device, const block::BlockRequest& request,
                                   uint64_t completion) {
    if (device >= disks_.size()) return UMKA_KABI_ENODEV;
    const block::BlockGeometry& geometry = disks_[device].geometry;
    uint64_t block = geometry.sector_size / 512;
    if (request.operation != block::BlockOperation::Flush) {
        if (request.sector_count == 0 || request.first_sector % block != 0 ||
            request.sector_count % block != 0) {
            return UMKA_KABI_EINVAL;
        }
        if (request.sector_count > geometry.max_request_sectors) return UMKA_KABI_E2BIG;
        if (request.first_sector >= geometry.sector_count ||
            request.sector_count > geometry.sector_count - request.first_sector) {
            return UMKA_KABI_ERANGE;
        }
        if (!dma_.holds(request.buffer.value, request.buffer_offset, request.device_address.value,
                        uint64_t(request.sector_count) * 512)) {
            return UMKA_KABI_EINVAL;
        }
        if (request.operation == block::BlockOperation::Write && geometry.read_only) {
            return UMKA_KABI_EROFS;
        }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (in_flight_ >= geometry.queue_depth) return UMKA_KABI_EAGAIN;
    submitted_.push_back(Pending{device, request, completion});
    routed_ += completion != 0 ? 1 : 0;
    in_flight_ += 1;
    most_in_flight_ = std::max(most_in_flight_, in_flight_);
    requests_ += request.operation == block::BlockOperation::Flush ? 0 : 1;
    if (request.operation != block::BlockOperation::Flush) {
        first_sectors_.push_back(request.first_sector);
    }
    if (request.sector_count != 0) {
        highest_sector_ =
            std::max(highest_sector_, request.first_sector + request.sector_count - 1);
    }
    return KabiStatus::ok();
}

KabiStatus HostBlockDriver::kick(uint32_t device) {
    if (device >= disks_.size()) return UMKA_KABI_ENODEV;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        while (!submitted_.empty()) {
            ready_.push_back(submitted_.front());
            submitted_.pop_front();
        }
    }
    wake_.notify_all();
    return KabiStatus::ok();
}

int32_t HostBlockDriver::perform(const Pending& pending) {
    RamDisk& disk = disks_[pending.device];
    const block::BlockRequest& request = pending.request;
    if (request.operation == block::BlockOperation::Flush) {
        disk.flushes += 1;
        return 0;
    }
    if (disk.failing_sector >= request.first_sector &&
        disk.failing_sector < request.first_sector + request.sector_count) {
        return UMKA_KABI_EIO;
    }
    auto* data = reinterpret_cast<uint8_t*>(uintptr_t(request.device_address.value));
    uint8_t* sectors = disk.bytes.data() + request.first_sector * 512;
    size_t bytes = size_t(request.sector_count) * 512;
    if (request.operation == block::BlockOperation::Read) {
        memcpy(data, sectors, bytes);
    } else {
        memcpy(sectors, data, bytes);
    }
    return 0;
}

// Completes outside the lock, as a driver's interrupt thread would: complete() may run
// while the command thread submits the next request.
void HostBlockDriver::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stop_ || (!hold_ && !ready_.empty()); });
        if (stop_) return;  // held requests are dropped with the device
        Pending pending = ready_.front();
        ready_.pop_front();
        busy_ = true;
        lock.unlock();
        int32_t result = perform(pending);
        lock.lock();
        in_flight_ -= 1;  // the descriptor is free before the completion is reported
        lock.unlock();
        block::BlockCompletionRef routed;
        if (pending.completion != 0 &&
            umka::kabi::bind_service(
                reinterpret_cast<const UmkaServiceSlot*>(uintptr_t(pending.completion)), &routed)
                .is_ok()) {
            routed.complete(pending.request.cookie, result);
        } else {
            completion_.complete(pending.request.cookie, result);
        }
        lock.lock();
        busy_ = false;
        idle_.notify_all();
    }
}

namespace {

// Each driver's context is the HostBlockDriver.
struct BlockDevice {
    static HostBlockDriver& driver(void* context) {
        return *static_cast<HostBlockDriver*>(context);
    }
    static KabiStatus geometry(void* context, block::BlockGeometry* geometry) {
        *geometry = driver(context).disk(0).geometry;
        return KabiStatus::ok();
    }
    static KabiStatus submit(void* context, const block::BlockRequest* request) {
        return driver(context).submit(0, *request);
    }
    static void kick(void* context) { (void)driver(context).kick(0); }
    static KabiStatus flush(void*) { return KabiStatus::ok(); }
    static uint32_t device_count(void* context) { return driver(context).count(); }
    static KabiStatus device_geometry(void* context, uint32_t device,
                                      block::BlockGeometry* geometry) {
        if (device >= driver(context).count()) return UMKA_KABI_ENODEV;
        *geometry = driver(context).disk(device).geometry;
        return KabiStatus::ok();
    }
    static KabiStatus device_submit(void* context, uint32_t device,
                                    const block::BlockRequest* request) {
        return driver(context).submit(device, *request);
    }
    static KabiStatus device_submit_routed(void* context, uint32_t device,
                                           const block::BlockRequest* request,
                                           uint64_t completion) {
        return driver(context).submit(device, *request, completion);
    }
    static KabiStatus device_kick(void* context, uint32_t device) {
        return driver(context).kick(device);
    }
    // The first driver names itself (the listing shows ramdisk@<device>); the second does
    // not, and the listing falls back to the provider and device index.
    static KabiStatus device_origin(void* context, uint32_t device,
                                    block::BlockDeviceOrigin* origin) {
        // The second driver (its disk is read-only) does not name itself.
        if (device >= driver(context).count() || driver(context).disk(0).geometry.read_only) {
            return UMKA_KABI_ENODEV;
        }
        *origin = block::BlockDeviceOrigin{};
        std::memcpy(origin->driver, "ramdisk", 7);
        origin->location[0] = uint8_t('0' + device);
        return KabiStatus::ok();
    }
};

constexpr block::BlockDeviceVtable kBlockDevice = block::make_block_device_vtable<BlockDevice>();

}  // namespace

const block::BlockDeviceVtable* HostBlockDriver::vtable() {
    return &kBlockDevice;
}

}  // namespace umka::harness
