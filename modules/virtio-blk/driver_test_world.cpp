// The host providers of virtio_blk_driver_test (driver_test_world.h).
#include "driver_test_world.h"

#include <cstring>

namespace umka::virtio_blk_test {
namespace {

using Status = kabi::Status;

void put8(registry::DeviceDescription& device, uint32_t at, uint8_t value) {
    device.config[at] = value;
}
void put16(registry::DeviceDescription& device, uint32_t at, uint16_t value) {
    std::memcpy(&device.config[at], &value, 2);
}
void put32(registry::DeviceDescription& device, uint32_t at, uint32_t value) {
    std::memcpy(&device.config[at], &value, 4);
}

// A virtio vendor capability (struct virtio_pci_cap) for a structure in BAR 4.
void vendor(registry::DeviceDescription& device, uint32_t at, uint8_t next, uint8_t type,
            uint32_t offset, uint32_t length, uint8_t capability_length = 16) {
    put8(device, at, 0x09);
    put8(device, at + 1, next);
    put8(device, at + 2, capability_length);
    put8(device, at + 3, type);
    put8(device, at + 4, kStructureBar);
    put32(device, at + 8, offset);
    put32(device, at + 12, length);
}

// BAR 4's 0x1000-byte pages, in QEMU's order.
constexpr virtio::Structure kPages[4] = {virtio::Structure::Common, virtio::Structure::Isr,
                                         virtio::Structure::Device, virtio::Structure::Notify};

}  // namespace

FakeFunction::FakeFunction(uint32_t index, uint64_t sectors, uint64_t features)
    : model(std::make_unique<VirtioBlkModel>(sectors, features)) {
    registry::DeviceDescription& device = description;
    device.info.address = pcibus::PciAddress{0, 0, uint8_t(4 + index), 0, {}, 0};
    device.info.vendor_id = 0x1AF4;
    device.info.device_id = 0x1042;
    device.info.class_code = 0x01;  // mass storage
    device.info.subclass = 0x00;
    device.bars[kMsixTableBar] =
        pcibus::BarInfo{0xFEB00000 + index * 0x1000, 0x1000, pcibus::BarKind::Memory32, 0, {}};
    device.bars[kStructureBar] = pcibus::BarInfo{0xFE000000 + index * kStructureBarBytes,
                                                 kStructureBarBytes,
                                                 pcibus::BarKind::Memory64,
                                                 1,
                                                 {}};
    device.first_window = 6 * index;
    device.interrupt_kind = 3;  // MSI-X
    std::memcpy(device.driver, "virtio_blk.umod", 15);
    // Configuration space as QEMU's virtio-blk-pci (disable-legacy=on) publishes it.
    put16(device, 0x00, 0x1AF4);
    put16(device, 0x02, 0x1042);
    put8(device, 0x0B, 0x01);
    put16(device, 0x06, 0x10);  // status: capability list
    put8(device, 0x34, 0xB8);
    // MSI-X: 2 entries (config, queue 0), table at BAR 1 offset 0, PBA at BAR 1 0x800.
    put8(device, 0xB8, 0x11);
    put8(device, 0xB9, 0x40);
    put16(device, 0xBA, 1);
    put32(device, 0xBC, 0x000 | kMsixTableBar);
    put32(device, 0xC0, 0x800 | kMsixTableBar);
    vendor(device, 0x40, 0x58, 1, 0x0000, 0x1000);      // common
    vendor(device, 0x58, 0x70, 3, 0x1000, 0x1000);      // ISR
    vendor(device, 0x70, 0x88, 4, 0x2000, 0x1000);      // device
    vendor(device, 0x88, 0xA0, 2, 0x3000, 0x1000, 20);  // notify
    put32(device, 0x88 + 16, VirtioBlkModel::kNotifyMultiplier);
    vendor(device, 0xA0, 0x00, 5, 0, 0, 20);  // PCI configuration access
}

FakeFunction& DeviceWorld::add_function(uint64_t sectors, uint64_t features) {
    functions_.push_back(
        std::make_unique<FakeFunction>(uint32_t(functions_.size()), sectors, features));
    return *functions_.back();
}

std::vector<Attachment> DeviceWorld::attachments() {
    std::lock_guard<std::mutex> lock(mutex_);
    return attachments_;
}

void DeviceWorld::serve(uint32_t index) {
    std::lock_guard<std::mutex> lock(mutex_);
    functions_[index]->model->serve();
}

void DeviceWorld::hold(uint32_t index, bool held) {
    std::lock_guard<std::mutex> lock(mutex_);
    functions_[index]->model->hold(held);
}

void DeviceWorld::set_fault(uint32_t index, Fault fault) {
    std::lock_guard<std::mutex> lock(mutex_);
    functions_[index]->model->set_fault(fault);
}

uint64_t DeviceWorld::interrupts(uint32_t index) {
    std::lock_guard<std::mutex> lock(mutex_);
    return functions_[index]->model->interrupts();
}

struct DeviceWorld::Vtables {
    static DeviceWorld& of(void* context) { return *static_cast<DeviceWorld*>(context); }

    // device_registry.Devices: every function is bound to the module under test.
    static Status publish(void*, const registry::DeviceDescription*) { return UMKA_KABI_EPERM; }
    static Status bound(void* context, uint32_t index, registry::DeviceDescription* device) {
        DeviceWorld& world = of(context);
        std::lock_guard<std::mutex> lock(world.mutex_);
        if (index >= world.functions_.size()) return UMKA_KABI_ENOENT;
        *device = world.functions_[index]->description;
        return Status::ok();
    }
    static Status describe(void* context, uint32_t index, registry::DeviceDescription* device) {
        return bound(context, index, device);
    }

    // bus_access.Mmio: window w is BAR w % 6 of function w / 6; its handle is w + 1.
    static FakeFunction* window_function(DeviceWorld& world, uint64_t window, uint8_t* bar) {
        if (window == 0 || (window - 1) / 6 >= world.functions_.size()) return nullptr;
        *bar = uint8_t((window - 1) % 6);
        return world.functions_[(window - 1) / 6].get();
    }
    static Status map(void* context, uint8_t index, bus::MmioWindow* window, uint64_t* length) {
        DeviceWorld& world = of(context);
        std::lock_guard<std::mutex> lock(world.mutex_);
        uint8_t bar = 0;
        FakeFunction* function = window_function(world, uint64_t(index) + 1, &bar);
        if (function == nullptr) return UMKA_KABI_ENODEV;
        const pcibus::BarInfo& info = function->description.bars[bar];
        if (info.kind != pcibus::BarKind::Memory32 && info.kind != pcibus::BarKind::Memory64) {
            return UMKA_KABI_ENODEV;
        }
        function->windows_mapped += 1;
        window->value = uint64_t(index) + 1;
        *length = info.length;
        return Status::ok();
    }
    // BAR 4 reaches the model's structures; the MSI-X table (BAR 1) reads as zeros.
    static Status access(void* context, bus::MmioWindow window, uint64_t offset,
                         bus::AccessWidth width, uint64_t* value, bool write) {
        DeviceWorld& world = of(context);
        std::lock_guard<std::mutex> lock(world.mutex_);
        uint8_t bar = 0;
        FakeFunction* function = window_function(world, window.value, &bar);
        if (function == nullptr) return UMKA_KABI_EINVAL;
        uint8_t bytes = uint8_t(width);
        if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8) return UMKA_KABI_EINVAL;
        if (offset + bytes > function->description.bars[bar].length) return UMKA_KABI_ERANGE;
        if (bar != kStructureBar || bytes == 8) {  // the virtio structures take up to 32 bits
            if (!write) *value = 0;
            return Status::ok();
        }
        virtio::Structure structure = kPages[offset / 0x1000];
        uint32_t within = uint32_t(offset % 0x1000);
        if (write) {
            function->model->write(structure, within, bytes, uint32_t(*value));
        } else {
            *value = function->model->read(structure, within, bytes);
        }
        return Status::ok();
    }
    static Status read(void* context, bus::MmioWindow window, uint64_t offset,
                       bus::AccessWidth width, uint64_t* value) {
        return access(context, window, offset, width, value, false);
    }
    static Status write(void* context, bus::MmioWindow window, uint64_t offset,
                        bus::AccessWidth width, uint64_t value) {
        return access(context, window, offset, width, &value, true);
    }
    static Status unmap(void*, bus::MmioWindow) { return Status::ok(); }

    // pci_bus.PciBus v2: function i's handle is i + 1.
    static uint32_t function_count(void* context) {
        DeviceWorld& world = of(context);
        std::lock_guard<std::mutex> lock(world.mutex_);
        return uint32_t(world.functions_.size());
    }
    static Status describe_function(void* context, uint32_t index, pcibus::PciDeviceInfo* info) {
        registry::DeviceDescription device{};
        if (bound(context, index, &device).is_error()) return UMKA_KABI_ERANGE;
        *info = device.info;
        return Status::ok();
    }
    static Status claim(void* context, uint32_t index, pcibus::PciFunction* function) {
        DeviceWorld& world = of(context);
        std::lock_guard<std::mutex> lock(world.mutex_);
        if (index >= world.functions_.size()) return UMKA_KABI_ERANGE;
        if (world.functions_[index]->claimed) return UMKA_KABI_EBUSY;
        world.functions_[index]->claimed = true;
        function->value = index + 1;
        return Status::ok();
    }
    static FakeFunction* claimed(DeviceWorld& world, pcibus::PciFunction function) {
        if (function.value == 0 || function.value > world.functions_.size()) return nullptr;
        FakeFunction* found = world.functions_[function.value - 1].get();
        return found->claimed ? found : nullptr;
    }
    static Status release(void* context, pcibus::PciFunction function) {
        DeviceWorld& world = of(context);
        std::lock_guard<std::mutex> lock(world.mutex_);
        FakeFunction* found = claimed(world, function);
        if (found == nullptr) return UMKA_KABI_EINVAL;
        found->claimed = false;
        return Status::ok();
    }
    static Status bar(void* context, pcibus::PciFunction function, uint8_t index,
                      pcibus::BarInfo* info) {
        DeviceWorld& world = of(context);
        std::lock_guard<std::mutex> lock(world.mutex_);
        FakeFunction* found = claimed(world, function);
        if (found == nullptr) return UMKA_KABI_EINVAL;
        if (index >= 6) return UMKA_KABI_ERANGE;
        *info = found->description.bars[index];
        return Status::ok();
    }
    static Status enable(void* context, pcibus::PciFunction function, uint8_t bus_master) {
        DeviceWorld& world = of(context);
        std::lock_guard<std::mutex> lock(world.mutex_);
        FakeFunction* found = claimed(world, function);
        if (found == nullptr) return UMKA_KABI_EINVAL;
        found->enables += 1;
        found->bus_master = bus_master != 0;
        return Status::ok();
    }
    static Status set_interrupts(void* context, pcibus::PciFunction function, bus::IrqKind kind) {
        DeviceWorld& world = of(context);
        std::lock_guard<std::mutex> lock(world.mutex_);
        FakeFunction* found = claimed(world, function);
        if (found == nullptr) return UMKA_KABI_EINVAL;
        found->interrupt_modes.push_back(kind);
        return kind == bus::IrqKind::Msi ? Status(UMKA_KABI_ENODEV) : Status::ok();
    }
    // virtio-pci offers no plain MSI: the driver never asks.
    static Status program_msi(void*, pcibus::PciFunction, uint64_t, uint32_t) {
        return UMKA_KABI_ENODEV;
    }

    // bus_access.Irq: binding i + 1 is attachment i.
    static Status attach(void* context, bus::IrqKind kind, uint16_t vector_index, uint64_t cookie,
                         bus::IrqBinding* binding) {
        DeviceWorld& world = of(context);
        std::lock_guard<std::mutex> lock(world.mutex_);
        if (world.refuse_interrupts_) return UMKA_KABI_ENODEV;
        world.attachments_.push_back(Attachment{kind, vector_index, cookie, false});
        binding->value = world.attachments_.size();
        return Status::ok();
    }
    static Status detach(void* context, bus::IrqBinding binding) {
        DeviceWorld& world = of(context);
        std::lock_guard<std::mutex> lock(world.mutex_);
        if (binding.value == 0 || binding.value > world.attachments_.size()) {
            return UMKA_KABI_EINVAL;
        }
        world.attachments_[binding.value - 1].detached = true;
        return Status::ok();
    }
    static Status mask(void*, bus::IrqBinding) { return Status::ok(); }
    static Status unmask(void*, bus::IrqBinding) { return Status::ok(); }
    // Only Msi bindings have a message; this world attaches MSI-X.
    static Status message(void*, bus::IrqBinding, uint64_t*, uint32_t*) { return UMKA_KABI_EINVAL; }
};

namespace {

// PciBus's describe has another signature than Devices' one: a view with that name.
struct PciBusVtable : DeviceWorld::Vtables {
    static Status describe(void* context, uint32_t index, pcibus::PciDeviceInfo* info) {
        return describe_function(context, index, info);
    }
};

constexpr registry::DevicesVtable kDevices = registry::make_devices_vtable<DeviceWorld::Vtables>();
constexpr bus::MmioVtable kMmio = bus::make_mmio_vtable<DeviceWorld::Vtables>();
constexpr pcibus::PciBusVtable kPciBus = pcibus::make_pci_bus_vtable<PciBusVtable>();
constexpr bus::IrqVtable kIrq = bus::make_irq_vtable<DeviceWorld::Vtables>();

}  // namespace

bool DeviceWorld::publish(harness::ModuleHarness& harness) {
    return harness.provide("device_registry", "Devices", &kDevices, this).is_ok() &&
           harness.provide("bus_access", "Mmio", &kMmio, this).is_ok() &&
           harness.provide("pci_bus", "PciBus", &kPciBus, this).is_ok() &&
           harness.provide("bus_access", "Irq", &kIrq, this).is_ok();
}

struct Completions::Vtable {
    static void complete(void* context, uint64_t cookie, int32_t result) {
        Completions& completions = *static_cast<Completions*>(context);
        {
            std::lock_guard<std::mutex> lock(completions.mutex_);
            completions.completions_.push_back(Completion{cookie, result});
        }
        completions.arrived_.notify_all();
    }
};

const block::BlockCompletionVtable* Completions::vtable() {
    static constexpr block::BlockCompletionVtable kCompletion =
        block::make_block_completion_vtable<Vtable>();
    return &kCompletion;
}

bool Completions::wait_for(size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return arrived_.wait_for(lock, timeout, [&] { return completions_.size() >= count; });
}

std::vector<Completions::Completion> Completions::all() {
    std::lock_guard<std::mutex> lock(mutex_);
    return completions_;
}

size_t Completions::count() {
    std::lock_guard<std::mutex> lock(mutex_);
    return completions_.size();
}

}  // namespace umka::virtio_blk_test
