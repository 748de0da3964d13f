// The host providers of block_console_test (block_console_test_fakes.h).
#include "block_console_test_fakes.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace umka::blk_test {

namespace {

constexpr const char* kProviderNames[] = {"ramdisk0", "ramdisk1"};

}  // namespace

void BlockConsole::SetUp() {
    std::vector<RamDisk> first;
    first.emplace_back(2048, 512, 32, 64, false);
    first.emplace_back(4096, 512, 128, 16, false);
    std::vector<RamDisk> second;
    second.emplace_back(1024, 4096, 256, 4, true);
    world_.drivers.push_back(std::make_unique<Driver>(world_.dma, std::move(first)));
    world_.drivers.push_back(std::make_unique<Driver>(world_.dma, std::move(second)));
    world_.directory.list("block_device", "BlockDevice", {kProviderNames[0], kProviderNames[1]});
    ASSERT_TRUE(harness_
                    .provide("kernel_services", "Threads", umka::harness::HostThreads::vtable(),
                             &world_.threads)
                    .is_ok());
    ASSERT_TRUE(harness_.provide("bus_access", "Dma", HostDma::vtable(), &world_.dma).is_ok());
    ASSERT_TRUE(harness_
                    .provide("service_directory", "Directory",
                             umka::harness::HostDirectory::vtable(), &world_.directory)
                    .is_ok());
    for (uint32_t index = 0; index < world_.drivers.size(); ++index) {
        ASSERT_TRUE(harness_
                        .provide("block_device", "BlockDevice", HostBlockDriver::vtable(),
                                 world_.drivers[index].get(), kProviderNames[index])
                        .is_ok())
            << harness_.last_reason();
    }
    module_ = harness_.load(umka::harness::module_under_test());
    ASSERT_NE(module_, nullptr) << harness_.last_reason();
    ASSERT_TRUE(harness_.bind_provided(*module_, "console_command", "CommandSet", &set_).is_ok());
    ASSERT_TRUE(
        harness_.bind_provided(*module_, "block_device", "BlockCompletion", &completion_).is_ok());
    for (auto& driver : world_.drivers) driver->attach(completion_);
}

// The driver threads call into the module: they stop before the harness unloads it.
void BlockConsole::TearDown() {
    world_.drivers.clear();
}

}  // namespace umka::blk_test
