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
#include "host_block_device.h"
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

using umka::harness::HostBlockDriver;
using umka::harness::RamDisk;
using Driver = HostBlockDriver;

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
