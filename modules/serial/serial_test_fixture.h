// What the serial driver's host tests share: one module harness with a 16550 model behind
// a host PortIo, the driver module loaded on it (granted the UART's ports) and bound as
// the CharDevice and IrqHandler Refs the tests call.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "module_harness.h"
#include "uart16550_model.h"
#include "umka/kabi/bus_access.hpp"
#include "umka/kabi/char_device.hpp"

namespace umka::test {

class SerialTest : public ::testing::Test {
protected:
    // Publishes the PortIo, then loads the module at `path`.
    void set_up(const std::string& path, const harness::LoadOptions& options = {}) {
        ASSERT_TRUE(port_io_.publish().is_ok()) << harness_.last_reason();
        ASSERT_NO_FATAL_FAILURE(load(path, options));
    }
    void load(const std::string& path, const harness::LoadOptions& options = {}) {
        module_ = harness_.load(path, options);
        ASSERT_NE(module_, nullptr) << harness_.last_reason();
        adopt(module_);
    }
    // `module` is now the driver: it calls with its own PortIo capability.
    void adopt(harness::HostModule* module) {
        module_ = module;
        port_io_.grant(*module_);
        ASSERT_NO_FATAL_FAILURE(bind());
    }
    void bind() {
        ASSERT_TRUE(
            harness_.bind_provided(*module_, "char_device", "CharDevice", &device_).is_ok());
        ASSERT_TRUE(harness_.bind_provided(*module_, "bus_access", "IrqHandler", &irq_).is_ok());
    }

    harness::ModuleHarness harness_;
    Uart16550Model uart_;
    harness::HostPortIo port_io_{harness_, uart_, Uart16550Model::kRegisterCount};
    harness::HostModule* module_ = nullptr;
    kabi::char_device::CharDeviceRef device_;
    kabi::bus_access::IrqHandlerRef irq_;
};

}  // namespace umka::test
