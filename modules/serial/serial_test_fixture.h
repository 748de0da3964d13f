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

// bus_access.Irq as the nucleus publishes it, for the driver's receive interrupt: attach
// answers what the test says (ENODEV by default: no line granted, the UART is polled) and
// records what was asked; the test raises the "interrupt" by calling handle_interrupt itself.
class HostIrq {
public:
    HostIrq() {
        vtable_.vtable_size = sizeof(vtable_);
        vtable_.version = 2;
        vtable_.attach = &attach;
        vtable_.detach = &detach;
        vtable_.mask = &mask;
        vtable_.unmask = &unmask;
        vtable_.message = &message;
    }
    Status publish(harness::ModuleHarness& harness) {
        return harness.provide("bus_access", "Irq", &vtable_, this);
    }
    void grant_line(bool granted) { granted_ = granted; }
    uint32_t attaches() const { return attaches_; }
    kabi::bus_access::IrqKind last_kind() const { return last_kind_; }

private:
    static int32_t attach(void* context, kabi::bus_access::IrqKind kind, uint16_t, uint64_t,
                          kabi::bus_access::IrqBinding* binding) {
        auto* self = static_cast<HostIrq*>(context);
        ++self->attaches_;
        self->last_kind_ = kind;
        if (!self->granted_) return UMKA_KABI_ENODEV;
        binding->value = 0x1001;
        return UMKA_KABI_OK;
    }
    static int32_t detach(void*, kabi::bus_access::IrqBinding) { return UMKA_KABI_OK; }
    static int32_t mask(void*, kabi::bus_access::IrqBinding) { return UMKA_KABI_OK; }
    static int32_t unmask(void*, kabi::bus_access::IrqBinding) { return UMKA_KABI_OK; }
    static int32_t message(void*, kabi::bus_access::IrqBinding, uint64_t*, uint32_t*) {
        return UMKA_KABI_EINVAL;  // a Legacy line has no message
    }

    kabi::bus_access::IrqVtable vtable_{};
    bool granted_ = false;
    uint32_t attaches_ = 0;
    kabi::bus_access::IrqKind last_kind_ = kabi::bus_access::IrqKind::Msi;
};

class SerialTest : public ::testing::Test {
protected:
    // Publishes the PortIo, then loads the module at `path`.
    void set_up(const std::string& path, const harness::LoadOptions& options = {}) {
        ASSERT_TRUE(port_io_.publish().is_ok()) << harness_.last_reason();
        ASSERT_TRUE(irq_line_.publish(harness_).is_ok()) << harness_.last_reason();
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
    HostIrq irq_line_;
    harness::HostModule* module_ = nullptr;
    kabi::char_device::CharDeviceRef device_;
    kabi::bus_access::IrqHandlerRef irq_;
};

}  // namespace umka::test
