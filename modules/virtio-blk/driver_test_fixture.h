// The fixture of the virtio-blk driver module's host tests (virtio_blk_driver_test.cpp,
// driver_test_faults.cpp): the device world of driver_test_world.h and the shared host
// Threads, Dma and Directory of test/host/module/ published, the module's real ELF loaded
// (its start function brings the devices up), and helpers for requests and completions.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "driver_test_world.h"
#include "host_directory.h"
#include "host_dma.h"
#include "host_threads.h"
#include "module_harness.h"
#include "umka/kabi/virtio_blk_state.hpp"
#include "umka/virtio/block.h"

namespace umka::virtio_blk_test {

using State = kabi::virtio_blk::VirtioBlkState;
using Status = kabi::Status;
using Operation = block::BlockOperation;

inline constexpr uint64_t kSectors = 2048;  // 1 MiB
// Everything the driver can use except read-only (a test asks for that one).
inline constexpr uint64_t kFeatures =
    virtio::block::kDriverFeatures & ~virtio::block::kFeatureReadOnly;
inline constexpr uint8_t kDriverOk = 4;
inline constexpr uint8_t kFailed = 0x80;  // the driver gave the device up (§2.1)

class VirtioBlkDriver : public ::testing::Test {
protected:
    FakeFunction& add_device(uint64_t features = kFeatures, uint64_t sectors = kSectors) {
        return world_.add_function(sectors, features);
    }

    // Publishes the host world and loads the module; the harness runs its start function.
    void start() {
        ASSERT_TRUE(
            harness_
                .provide("kernel_services", "Threads", harness::HostThreads::vtable(), &threads_)
                .is_ok());
        ASSERT_TRUE(
            harness_.provide("bus_access", "Dma", harness::HostDma::vtable(), &dma_).is_ok());
        ASSERT_TRUE(harness_
                        .provide("service_directory", "Directory", harness::HostDirectory::vtable(),
                                 &directory_)
                        .is_ok());
        ASSERT_TRUE(world_.publish(harness_));
        ASSERT_TRUE(harness_
                        .provide("block_device", "BlockCompletion", Completions::vtable(),
                                 &completions_, "test_completions")
                        .is_ok());
        module_ = harness_.load(harness::module_under_test());
        ASSERT_NE(module_, nullptr) << harness_.last_reason();
        ASSERT_TRUE(
            harness_.bind_provided(*module_, "block_device", "BlockDevice", &device_).is_ok());
        ASSERT_TRUE(
            harness_.bind_provided(*module_, "bus_access", "IrqHandler", &handler_).is_ok());
    }

    // The module's completion thread loops until `stopping`: set it, wake it, join it
    // before the harness unloads the code it runs.
    void TearDown() override {
        if (module_ != nullptr) __atomic_store_n(&state().stopping, 1u, __ATOMIC_RELEASE);
        threads_.wake_all();
        threads_.join_all();
    }

    State& state() { return *static_cast<State*>(module_->states[0].base); }

    bool logged(const std::string& text) {
        const std::vector<std::string>& lines = harness_.log().lines();
        return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
            return line.find(text) != std::string::npos;
        });
    }
    std::string log_text() {
        std::string text;
        for (const std::string& line : harness_.log().lines()) text += line + "\n";
        return text;
    }

    struct Buffer {
        uint64_t handle;
        uint8_t* memory;
    };
    Buffer buffer(uint32_t sectors) {
        uint64_t handle = dma_.allocate(uint64_t(sectors) * 512);
        return Buffer{handle, dma_.allocation(handle).memory};
    }
    Status submit(uint32_t device, Operation operation, uint64_t first, uint32_t count,
                  const Buffer& data, uint64_t cookie, uint64_t offset = 0) {
        block::BlockRequest request{
            .cookie = cookie,
            .first_sector = first,
            .sector_count = count,
            .operation = operation,
            .buffer = bus::DmaBuffer{data.handle},
            .buffer_offset = offset,
            .device_address = umka_kabi_dma_addr{uint64_t(uintptr_t(data.memory)) + offset},
        };
        return device_.device_submit(device, &request);
    }
    // Rings the doorbell (the model serves at once unless held), then delivers the device's
    // interrupt as the nucleus's interrupt thread would.
    void kick_and_interrupt(uint32_t device = 0) {
        ASSERT_TRUE(device_.device_kick(device).is_ok());
        handler_.handle_interrupt(device);
    }
    // The completions so far, cookie -> how many times, each with its result.
    std::map<uint64_t, std::vector<int32_t>> by_cookie() {
        std::map<uint64_t, std::vector<int32_t>> seen;
        for (const Completions::Completion& done : completions_.all()) {
            seen[done.cookie].push_back(done.result);
        }
        return seen;
    }
    static void fill(uint8_t* memory, size_t bytes, uint8_t seed) {
        for (size_t index = 0; index < bytes; ++index) memory[index] = uint8_t(seed + index * 7);
    }

    harness::ModuleHarness harness_;
    harness::HostThreads threads_;
    harness::HostDma dma_;
    harness::HostDirectory directory_{harness_};
    DeviceWorld world_;
    Completions completions_;
    harness::HostModule* module_ = nullptr;
    block::BlockDeviceRef device_;
    bus::IrqHandlerRef handler_;
};

}  // namespace umka::virtio_blk_test
