// block_device.BlockDevice v4 for module tests: RAM disks behind one provider whose own
// thread completes requests after a kick, through the attached BlockCompletion or the one a
// routed request names (device_submit_routed), as a virtio-blk driver does from its thread.
// Requests are checked as virtio-blk checks them (alignment, range, size, the DMA buffer,
// read-only), so a module bug shows as a refusal here. device_origin names the provider
// "ramdisk" with the device's index, except when its first disk is read-only (then ENODEV,
// so a listing shows the fallback).
#pragma once

#include <stdint.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "host_dma.h"
#include "umka/kabi/block_device.hpp"
#include "umka/module_entry.h"

namespace umka::harness {

namespace block = umka::kabi::block_device;
using KabiStatus = umka::kabi::Status;

struct RamDisk {
    RamDisk(uint64_t sectors, uint32_t sector_size, uint32_t max_request, uint32_t depth,
            bool read_only)
        : bytes(sectors * 512) {
        geometry.sector_count = sectors;
        geometry.sector_size = sector_size;
        geometry.max_request_sectors = max_request;
        geometry.optimal_alignment = sector_size / 512;
        geometry.read_only = read_only;
        geometry.queue_depth = depth;
    }
    std::vector<uint8_t> bytes;
    block::BlockGeometry geometry{};
    uint64_t failing_sector = ~uint64_t(0);  // a request covering it completes with EIO
    uint32_t flushes = 0;
};

// One BlockDevice provider with its own completion thread; requests wait for a kick.
class HostBlockDriver {
public:
    HostBlockDriver(HostDma& dma, std::vector<RamDisk> disks);
    ~HostBlockDriver();
    // The vtable to publish with this driver as its context.
    static const block::BlockDeviceVtable* vtable();
    void attach(const block::BlockCompletionRef& completion) { completion_ = completion; }
    RamDisk& disk(uint32_t index) { return disks_[index]; }
    uint32_t count() const { return uint32_t(disks_.size()); }
    void hold_completions(bool hold);
    void wait_idle();
    uint64_t requests();
    uint64_t highest_sector();
    uint32_t most_in_flight();
    uint64_t routed();                      // requests submitted with a completion slot
    std::vector<uint64_t> first_sectors();  // of every read or write, in submission order

    // `completion`: the BlockCompletion slot the request completes to (0: the attached one).
    KabiStatus submit(uint32_t device, const block::BlockRequest& request, uint64_t completion = 0);
    KabiStatus kick(uint32_t device);

private:
    struct Pending {
        uint32_t device;
        block::BlockRequest request;
        uint64_t completion;
    };
    void run();
    int32_t perform(const Pending& pending);

    HostDma& dma_;
    std::vector<RamDisk> disks_;
    block::BlockCompletionRef completion_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::deque<Pending> submitted_;
    std::deque<Pending> ready_;
    bool hold_ = false;
    bool busy_ = false;
    bool stop_ = false;
    uint32_t in_flight_ = 0;
    uint32_t most_in_flight_ = 0;
    uint64_t requests_ = 0;
    uint64_t routed_ = 0;
    uint64_t highest_sector_ = 0;
    std::vector<uint64_t> first_sectors_;
    std::thread thread_;
};

}  // namespace umka::harness
