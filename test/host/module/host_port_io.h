// bus_access.PortIo for the host harness, published as the nucleus's, in front of a device
// model (PortDevice). Like the nucleus (arch/x86_64/bus/port_io_service.cpp) it takes the
// PortRange handle to be the capability of the caller's PortIo binding: the handle must be
// live in the harness's capability table (Rights::Call), name the PortIo slot, and belong
// to the module the test granted ports to; the access must lie inside the grant and be of a
// width the device decodes. Refusals are EINVAL (handle, width, value too wide) or ERANGE
// (offset), with the reason kept for the test.
#pragma once

#include <stdint.h>

#include <string>

#include "module_harness.h"
#include "umka/kabi/bus_access.hpp"

namespace umka::harness {

// A device behind a granted port window; offsets are relative to the window's base.
class PortDevice {
public:
    virtual ~PortDevice() = default;
    // Empty when the device decodes accesses of `width`; otherwise why it does not.
    virtual std::string refuse_width(kabi::bus_access::AccessWidth width) const = 0;
    virtual uint32_t read(uint16_t offset, kabi::bus_access::AccessWidth width) = 0;
    virtual void write(uint16_t offset, kabi::bus_access::AccessWidth width, uint32_t value) = 0;
};

class HostPortIo {
public:
    HostPortIo(ModuleHarness& harness, PortDevice& device, uint16_t window_length);
    // Publishes this PortIo in the harness as the nucleus's bus_access.PortIo.
    Status publish();
    // Grants `module` the window (offsets 0..length-1; the whole window by default).
    void grant(const HostModule& module);
    void grant(const HostModule& module, uint16_t length);
    // The same by owner number: ModuleHarness::next_owner() grants a module whose start
    // function touches the ports before load() returns it.
    void grant_owner(uint32_t owner) { grant_owner(owner, window_length_); }
    void grant_owner(uint32_t owner, uint16_t length);

    const std::string& last_refusal() const { return last_refusal_; }
    uint64_t accesses() const { return accesses_; }

private:
    static int32_t read(void* context, kabi::bus_access::PortRange range, uint16_t offset,
                        kabi::bus_access::AccessWidth width, uint32_t* value);
    static int32_t write(void* context, kabi::bus_access::PortRange range, uint16_t offset,
                         kabi::bus_access::AccessWidth width, uint32_t value);
    int32_t check(kabi::bus_access::PortRange range, uint16_t offset,
                  kabi::bus_access::AccessWidth width);

    ModuleHarness& harness_;
    PortDevice& device_;
    uint16_t window_length_;
    kabi::bus_access::PortIoVtable vtable_{};
    uint32_t granted_owner_ = 0;  // 0: nobody
    uint16_t granted_length_ = 0;
    std::string last_refusal_;
    uint64_t accesses_ = 0;
};

}  // namespace umka::harness
