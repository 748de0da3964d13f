// The PCI bus driver module's ELF (the file that boots) on the configuration ports of the
// pc and q35 models, through the harness's PortIo: the enumeration at start, PciBus
// (describe, claim, bar, enable, release), the console's `pci`, a refused start without
// the ports, and a live evolve that keeps the table and the claims.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "command_line.h"
#include "config_ports_model.h"
#include "ecam_mmio_model.h"
#include "host_port_io.h"
#include "module_harness.h"
#include "qemu_machines.h"
#include "umka/kabi/console_command.hpp"
#include "umka/kabi/device_registry.hpp"
#include "umka/kabi/pci_bus.hpp"

namespace umka::pci {
namespace {

using testing::ConfigPortsModel;
using ::testing::HasSubstr;
using testing::PciModel;
namespace pcibus = kabi::pci_bus;
namespace commands = kabi::console_command;

namespace registry = kabi::device_registry;

// device_registry.Devices as the nucleus publishes it, recording what the bus driver
// publishes; the test names the driver bound to a vendor:device pair.
class DeviceRecorder {
public:
    DeviceRecorder() {
        vtable_.vtable_size = sizeof(vtable_);
        vtable_.version = 1;
        vtable_.publish = &publish;
        vtable_.bound = &bound;
        vtable_.describe = &describe;
    }
    Status provide(harness::ModuleHarness& harness) {
        return harness.provide("device_registry", "Devices", &vtable_, this);
    }
    void bind_to(uint16_t vendor, uint16_t device, const char* driver) {
        vendor_ = vendor;
        device_ = device;
        driver_ = driver;
    }
    const std::vector<registry::DeviceDescription>& devices() const { return devices_; }

private:
    static int32_t publish(void* context, const registry::DeviceDescription* device) {
        auto* self = static_cast<DeviceRecorder*>(context);
        registry::DeviceDescription copy = *device;
        if (copy.info.vendor_id == self->vendor_ && copy.info.device_id == self->device_) {
            for (size_t index = 0; index < self->driver_.size(); ++index) {
                copy.driver[index] = uint8_t(self->driver_[index]);
            }
        }
        self->devices_.push_back(copy);
        return UMKA_KABI_OK;
    }
    static int32_t bound(void*, uint32_t, registry::DeviceDescription*) { return UMKA_KABI_ENOENT; }
    static int32_t describe(void* context, uint32_t index, registry::DeviceDescription* device) {
        auto* self = static_cast<DeviceRecorder*>(context);
        if (index >= self->devices_.size()) return UMKA_KABI_ENOENT;
        *device = self->devices_[index];
        return UMKA_KABI_OK;
    }

    registry::DevicesVtable vtable_{};
    std::vector<registry::DeviceDescription> devices_;
    uint16_t vendor_ = 0, device_ = 0;
    std::string driver_;
};

class PciBusDriverTest : public ::testing::Test {
protected:
    void boot(PciModel model, bool ecam = false) {
        model_ = std::move(model);
        ASSERT_TRUE(port_io_.publish().is_ok()) << harness_.last_reason();
        ASSERT_TRUE(mmio_.publish(harness_).is_ok()) << harness_.last_reason();
        ASSERT_TRUE(devices_.provide(harness_).is_ok()) << harness_.last_reason();
        mmio_.grant(ecam);
        port_io_.grant_owner(harness_.next_owner());
        module_ = harness_.load(harness::module_under_test());
        ASSERT_NE(module_, nullptr) << harness_.last_reason() << " / " << port_io_.last_refusal();
        bind();
    }
    void bind() {
        ASSERT_TRUE(harness_.bind_provided(*module_, "pci_bus", "PciBus", &bus_).is_ok());
        ASSERT_TRUE(
            harness_.bind_provided(*module_, "console_command", "CommandSet", &commands_).is_ok());
    }
    // Runs a console line (words separated by single spaces); the output in *text.
    int32_t run(const std::string& line, std::string* text) {
        int32_t status = 0;
        *text = harness::run_command_line(commands_, line, &status, 4096);
        return status;
    }
    int find(uint8_t bus, uint8_t device, uint8_t function) {
        for (uint32_t index = 0; index < bus_.function_count(); ++index) {
            pcibus::PciDeviceInfo info{};
            if (bus_.describe(index, &info).is_error()) return -1;
            if (info.address.bus == bus && info.address.device == device &&
                info.address.function == function) {
                return int(index);
            }
        }
        return -1;
    }

    PciModel model_;
    ConfigPortsModel ports_{model_};
    harness::ModuleHarness harness_;
    harness::HostPortIo port_io_{harness_, ports_, ConfigPortsModel::kWindow};
    testing::EcamMmioModel mmio_{model_};
    DeviceRecorder devices_;
    harness::HostModule* module_ = nullptr;
    pcibus::PciBusRef bus_;
    commands::CommandSetRef commands_;
};

TEST_F(PciBusDriverTest, EnumeratesAPcMachineAtStart) {
    ASSERT_NO_FATAL_FAILURE(boot(testing::qemu_pc()));
    EXPECT_THAT(harness_.log().lines(),
                ::testing::Contains(HasSubstr("pci: 6 functions on 1 buses through ports 0xcf8")));
    ASSERT_EQ(bus_.function_count(), 6u);
    int blk = find(0, 3, 0);
    ASSERT_GE(blk, 0);
    pcibus::PciDeviceInfo info{};
    ASSERT_TRUE(bus_.describe(uint32_t(blk), &info).is_ok());
    EXPECT_EQ(info.vendor_id, 0x1AF4);
    EXPECT_EQ(info.device_id, 0x1042);
    EXPECT_EQ(info.subsystem_id, 0x1100);
    EXPECT_EQ(info.class_code, 0x01);
    EXPECT_EQ(info.interrupt_pin, 1);
    EXPECT_EQ(bus_.describe(6, &info).code(), UMKA_KABI_ERANGE);
    EXPECT_EQ(model_.bar_writes_while_decoding(), 0);
}

TEST_F(PciBusDriverTest, EnumeratesBehindTheQ35RootPort) {
    ASSERT_NO_FATAL_FAILURE(boot(testing::qemu_q35()));
    EXPECT_EQ(bus_.function_count(), 5u);
    EXPECT_GE(find(1, 0, 0), 0);
    EXPECT_GE(find(0, 31, 2), 0);
    std::string text;
    ASSERT_EQ(run("pci", &text), UMKA_KABI_OK) << text;
    EXPECT_THAT(text, HasSubstr("00:00.0 8086:29c0   0600  -           none\n"));
    EXPECT_THAT(text, HasSubstr("01:00.0 1af4:1042   0100  -           msix(2)\n"));
    EXPECT_THAT(text, HasSubstr("00:1f.2 8086:2922   0106  -           intA\n"));
    EXPECT_THAT(text, HasSubstr("5 functions on 2 buses through ports 0xcf8\n"));
}

TEST_F(PciBusDriverTest, UsesEcamWhenTheNucleusGrantsTheWindow) {
    ASSERT_NO_FATAL_FAILURE(boot(testing::qemu_q35(), true));
    EXPECT_THAT(harness_.log().lines(),
                ::testing::Contains(HasSubstr("pci: 5 functions on 2 buses through ECAM")));
    EXPECT_EQ(ports_.data_writes(), 0u);
    EXPECT_EQ(port_io_.accesses(), 0u);  // not one access through the ports
    EXPECT_GT(mmio_.accesses(), 0u);
    EXPECT_GE(find(1, 0, 0), 0);
    pcibus::PciFunction function{};
    ASSERT_TRUE(bus_.claim(uint32_t(find(1, 0, 0)), &function).is_ok());
    ASSERT_TRUE(bus_.enable(function, 1).is_ok());  // through ECAM too
    EXPECT_EQ(model_.at(1, 0, 0).config[0x04] & 0x7, 0x6);
    EXPECT_EQ(port_io_.accesses(), 0u);
    std::string text;
    ASSERT_EQ(run("pci", &text), UMKA_KABI_OK);
    EXPECT_THAT(text, HasSubstr("5 functions on 2 buses through ECAM\n"));
}

TEST_F(PciBusDriverTest, PciListsEveryFunctionAndItsBars) {
    ASSERT_NO_FATAL_FAILURE(boot(testing::qemu_pc()));
    std::string text;
    ASSERT_EQ(run("pci", &text), UMKA_KABI_OK) << text;
    EXPECT_THAT(text, HasSubstr("bb:dd.f vendor:device class driver      irq\n"));
    EXPECT_THAT(text, HasSubstr("00:01.1 8086:7010   0101  -           none\n"));
    EXPECT_THAT(text, HasSubstr("00:03.0 1af4:1042   0100  -           msix(2)\n"));
    EXPECT_THAT(text, HasSubstr("6 functions on 1 buses through ports 0xcf8\n"));
    ASSERT_EQ(run("pci bars", &text), UMKA_KABI_OK) << text;
    EXPECT_THAT(text, HasSubstr("00:01.1 bar4 io 0xc040 +0x10\n"));
    EXPECT_THAT(text, HasSubstr("00:03.0 bar4 mem64 0xfe000000 +0x4000 prefetchable\n"));
    EXPECT_THAT(text, HasSubstr("00:02.0 bar0 mem32 0xfd000000 +0x1000000 prefetchable\n"));
    EXPECT_EQ(run("pci nonsense", &text), UMKA_KABI_EINVAL);
    EXPECT_EQ(text, "usage: pci | pci bars\n");
    EXPECT_EQ(run("blk", &text), UMKA_KABI_ENOENT);
}

TEST_F(PciBusDriverTest, AClaimIsExclusiveAndItsHandleGoesStaleOnRelease) {
    ASSERT_NO_FATAL_FAILURE(boot(testing::qemu_pc()));
    int blk = find(0, 3, 0);
    ASSERT_GE(blk, 0);
    pcibus::PciFunction function{};
    ASSERT_TRUE(bus_.claim(uint32_t(blk), &function).is_ok());
    pcibus::PciFunction second{};
    EXPECT_EQ(bus_.claim(uint32_t(blk), &second).code(), UMKA_KABI_EBUSY);
    EXPECT_EQ(bus_.claim(6, &second).code(), UMKA_KABI_ERANGE);

    pcibus::BarInfo bar{};
    ASSERT_TRUE(bus_.bar(function, 4, &bar).is_ok());
    EXPECT_EQ(bar.kind, pcibus::BarKind::Memory64);
    EXPECT_EQ(bar.base, 0xFE000000u);
    EXPECT_EQ(bar.length, 0x4000u);
    EXPECT_EQ(bar.prefetchable, 1);
    EXPECT_EQ(bus_.bar(function, 6, &bar).code(), UMKA_KABI_ERANGE);

    ASSERT_TRUE(bus_.enable(function, 1).is_ok());
    EXPECT_EQ(model_.at(0, 3, 0).config[0x04] & 0x7, 0x6);  // memory + bus master, no I/O
    std::string text;
    ASSERT_EQ(run("pci", &text), UMKA_KABI_OK);
    EXPECT_THAT(text, HasSubstr("00:03.0 1af4:1042   0100  -*          msix(2)\n"));

    ASSERT_TRUE(bus_.release(function).is_ok());
    EXPECT_EQ(bus_.release(function).code(), UMKA_KABI_EINVAL);
    EXPECT_EQ(bus_.bar(function, 4, &bar).code(), UMKA_KABI_EINVAL);
    EXPECT_EQ(bus_.enable(function, 0).code(), UMKA_KABI_EINVAL);
    EXPECT_EQ(bus_.bar(pcibus::PciFunction{0}, 0, &bar).code(), UMKA_KABI_EINVAL);
    ASSERT_TRUE(bus_.claim(uint32_t(blk), &second).is_ok());
    EXPECT_NE(second.value, function.value);
}

TEST_F(PciBusDriverTest, WithoutTheConfigurationPortsTheStartIsRefused) {
    model_ = testing::qemu_pc();
    ASSERT_TRUE(port_io_.publish().is_ok());
    ASSERT_TRUE(mmio_.publish(harness_).is_ok());
    ASSERT_TRUE(devices_.provide(harness_).is_ok());
    module_ = harness_.load(harness::module_under_test());  // no grant
    EXPECT_EQ(module_, nullptr);
    EXPECT_THAT(harness_.last_reason(), HasSubstr("PCI configuration access refused"));
    EXPECT_THAT(harness_.log().lines(),
                ::testing::Contains(HasSubstr("is it granted ports=0xcf8+8?")));
    EXPECT_THAT(port_io_.last_refusal(), HasSubstr("no ports are granted"));
}

TEST_F(PciBusDriverTest, AnEvolveKeepsTheTableAndTheClaims) {
    ASSERT_NO_FATAL_FAILURE(boot(testing::qemu_pc()));
    pcibus::PciFunction function{};
    ASSERT_TRUE(bus_.claim(uint32_t(find(0, 3, 0)), &function).is_ok());
    uint64_t reads = model_.reads();
    port_io_.grant_owner(harness_.next_owner());
    harness::HostModule* replacement = harness_.evolve(module_, harness::module_under_test());
    ASSERT_NE(replacement, nullptr) << harness_.last_reason();
    module_ = replacement;
    ASSERT_NO_FATAL_FAILURE(bind());
    EXPECT_EQ(model_.reads(), reads);  // not walked again
    EXPECT_EQ(bus_.function_count(), 6u);
    pcibus::BarInfo bar{};
    EXPECT_TRUE(bus_.bar(function, 4, &bar).is_ok());  // the claim's handle still holds
    pcibus::PciFunction second{};
    EXPECT_EQ(bus_.claim(uint32_t(find(0, 3, 0)), &second).code(), UMKA_KABI_EBUSY);
}

}  // namespace
}  // namespace umka::pci

namespace umka::pci {
namespace {

// Every function reaches the registry with its configuration space as the device has it,
// and `pci` names the driver the registry bound.
TEST_F(PciBusDriverTest, PublishesEveryFunctionToTheDeviceRegistry) {
    devices_.bind_to(0x1AF4, 0x1042, "virtio_blk.umod");
    ASSERT_NO_FATAL_FAILURE(boot(testing::qemu_q35()));
    ASSERT_EQ(devices_.devices().size(), 5u);
    for (const registry::DeviceDescription& device : devices_.devices()) {
        Address address{0, device.info.address.bus, device.info.address.device,
                        device.info.address.function};
        for (uint16_t offset = 0; offset < 256; offset += 4) {
            uint32_t word = uint32_t(device.config[offset]) | uint32_t(device.config[offset + 1]) << 8 |
                            uint32_t(device.config[offset + 2]) << 16 |
                            uint32_t(device.config[offset + 3]) << 24;
            ASSERT_EQ(word, model_.read32(address, offset)) << "offset " << offset;
        }
    }
    EXPECT_THAT(harness_.log().lines(),
                ::testing::Contains(HasSubstr("pci: 5 devices published, 1 bound")));
    std::string text;
    ASSERT_EQ(run("pci", &text), UMKA_KABI_OK) << text;
    EXPECT_THAT(text, HasSubstr("01:00.0 1af4:1042   0100  virtio_blk  msix(2)\n"));
}

}  // namespace
}  // namespace umka::pci

namespace umka::pci {
namespace {

// set_interrupts: MSI-X on (function mask off) with INTx off, and back to INTx; a function
// without MSI-X and plain MSI are ENODEV.
TEST_F(PciBusDriverTest, SetInterruptsTurnsMsixOnAndOff) {
    ASSERT_NO_FATAL_FAILURE(boot(testing::qemu_pc()));
    ASSERT_TRUE(bus_.has_set_interrupts());
    pcibus::PciFunction disk{};
    ASSERT_TRUE(bus_.claim(uint32_t(find(0, 3, 0)), &disk).is_ok());
    testing::ModelFunction& function = model_.at(0, 3, 0);
    ASSERT_TRUE(bus_.set_interrupts(disk, kabi::bus_access::IrqKind::MsiX).is_ok());
    uint16_t control = uint16_t(function.get32(0x98) >> 16);
    EXPECT_EQ(control & 0xC000u, 0x8000u);   // enabled, not function-masked
    EXPECT_EQ(control & 0x07FFu, 0x0001u);   // the table size is untouched
    EXPECT_NE(function.get32(0x04) & (1u << 10), 0u);  // INTx disabled
    ASSERT_TRUE(bus_.set_interrupts(disk, kabi::bus_access::IrqKind::Legacy).is_ok());
    EXPECT_EQ(function.get32(0x98) >> 16 & 0x8000u, 0u);
    EXPECT_EQ(function.get32(0x04) & (1u << 10), 0u);
    EXPECT_EQ(bus_.set_interrupts(disk, kabi::bus_access::IrqKind::Msi).code(), UMKA_KABI_ENODEV);
    pcibus::PciFunction bridge{};
    ASSERT_TRUE(bus_.claim(uint32_t(find(0, 0, 0)), &bridge).is_ok());
    EXPECT_EQ(bus_.set_interrupts(bridge, kabi::bus_access::IrqKind::MsiX).code(), UMKA_KABI_ENODEV);
    EXPECT_EQ(bus_.set_interrupts(pcibus::PciFunction{12345}, kabi::bus_access::IrqKind::MsiX).code(),
              UMKA_KABI_EINVAL);
}

}  // namespace
}  // namespace umka::pci

namespace umka::pci {
namespace {

// program_msi: QEMU's edu device (one 64-bit MSI vector) gets the message, one vector, MSI
// on and INTx off; a function without MSI is ENODEV.
TEST_F(PciBusDriverTest, ProgramMsiWritesTheMessageAndTurnsMsiOn) {
    PciModel model = testing::qemu_pc();
    testing::ModelFunction& edu = model.add(0, 4, 0, 0x1234, 0x11E8, 0x00, 0xFF);
    const uint8_t msi[] = {0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // 64-bit, 1 vector
    PciModel::capability(edu, 0x40, 0x05, msi, sizeof msi);
    ASSERT_NO_FATAL_FAILURE(boot(std::move(model)));
    ASSERT_TRUE(bus_.has_program_msi());
    pcibus::PciFunction function{};
    ASSERT_TRUE(bus_.claim(uint32_t(find(0, 4, 0)), &function).is_ok());
    ASSERT_TRUE(bus_.program_msi(function, 0xFEE01000u, 0x45).is_ok());
    testing::ModelFunction& programmed = model_.at(0, 4, 0);
    EXPECT_EQ(programmed.get32(0x44), 0xFEE01000u);
    EXPECT_EQ(programmed.get32(0x48), 0u);
    EXPECT_EQ(programmed.get32(0x4C), 0x45u);
    uint16_t control = uint16_t(programmed.get32(0x40) >> 16);
    EXPECT_EQ(control & 0x0001u, 1u);   // MSI on
    EXPECT_EQ(control & 0x0070u, 0u);   // one vector
    EXPECT_NE(programmed.get32(0x04) & (1u << 10), 0u);  // INTx off
    pcibus::PciFunction bridge{};
    ASSERT_TRUE(bus_.claim(uint32_t(find(0, 0, 0)), &bridge).is_ok());
    EXPECT_EQ(bus_.program_msi(bridge, 0xFEE00000u, 0x40).code(), UMKA_KABI_ENODEV);
    EXPECT_EQ(bus_.program_msi(pcibus::PciFunction{99}, 0xFEE00000u, 0x40).code(),
              UMKA_KABI_EINVAL);
}

}  // namespace
}  // namespace umka::pci
