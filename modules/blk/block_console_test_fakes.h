// The host world of block_console_test.cpp: RAM disks behind block_device.BlockDevice v2
// (one driver thread per provider completes requests through the module's BlockCompletion,
// as a virtio-blk driver does from its own thread), and the shared host providers of
// test/host/module/: a Dma over aligned_alloc memory (device address = host address),
// Threads wait queues over a condition variable, and a Directory over the harness's registry.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <string.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "command_line.h"
#include "host_directory.h"
#include "host_dma.h"
#include "host_threads.h"
#include "module_harness.h"
#include "umka/kabi/block_console_state.hpp"
#include "umka/kabi/block_device.hpp"
#include "umka/kabi/bus_access.hpp"
#include "umka/kabi/console_command.hpp"
#include "umka/kabi/kernel_services.hpp"

namespace umka::blk_test {

namespace block = umka::kabi::block_device;
using KabiStatus = umka::kabi::Status;
using umka::harness::HostDma;

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
class Driver {
public:
    Driver(HostDma& dma, std::vector<RamDisk> disks);
    ~Driver();
    void attach(const block::BlockCompletionRef& completion) { completion_ = completion; }
    RamDisk& disk(uint32_t index) { return disks_[index]; }
    uint32_t count() const { return uint32_t(disks_.size()); }
    void hold_completions(bool hold);
    void wait_idle();
    uint64_t requests();
    uint64_t highest_sector();
    uint32_t most_in_flight();
    uint64_t routed();  // requests submitted with a completion slot
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

// What the host Threads, Dma, Directory and BlockDevice vtables see.
struct World {
    explicit World(umka::harness::ModuleHarness& harness) : directory(harness) {}
    umka::harness::HostThreads threads;
    HostDma dma;
    // Lists the BlockDevice providers (ramdisk0, ramdisk1; a test may list fewer).
    umka::harness::HostDirectory directory;
    std::vector<std::unique_ptr<Driver>> drivers;
    Driver& driver(uint32_t index) { return *drivers[index]; }
};

// vda (2048 sectors, 32 a request, depth 64) and vdb (4096, 128, depth 16) on provider 0;
// vdc (read-only, 4096-byte sectors, 1024 sectors, depth 4) on provider 1.
class BlockConsole : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    std::string run(const std::string& line, int32_t* status) {
        return umka::harness::run_command_line(set_, line, status, 4096);
    }
    const umka::kabi::block_console::BlockConsoleState& state() const {
        return *static_cast<const umka::kabi::block_console::BlockConsoleState*>(
            module_->states[0].base);
    }

    umka::harness::ModuleHarness harness_;
    World world_{harness_};
    umka::harness::HostModule* module_ = nullptr;
    umka::kabi::console_command::CommandSetRef set_;
    block::BlockCompletionRef completion_;
};

}  // namespace umka::blk_test
