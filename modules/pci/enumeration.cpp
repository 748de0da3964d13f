// The bus walk: breadth first from the segment's first bus, each bridge's secondary bus
// queued once. Further root buses (host bridges ACPI describes apart) are further ranges.
// Multi-function devices are read at every function; a single-function device only at function 0
// (its other functions may alias function 0).
#include "enumeration.h"

#include "function_probe.h"

namespace umka::pci {
namespace {

constexpr uint16_t kAbsentVendor = 0xFFFF;

struct Walk {
    ConfigAccess& access;
    const BusRange& range;
    FunctionSink& sink;
    Enumeration result;
    bool queued[256];
    uint8_t queue[256];
    uint32_t queue_head;
    uint32_t queue_tail;
};

void queue_bus(Walk& walk, uint8_t bus) {
    if (bus < walk.range.first_bus || bus > walk.range.last_bus || walk.queued[bus]) {
        ++walk.result.bridges_refused;
        return;
    }
    walk.queued[bus] = true;
    walk.queue[walk.queue_tail++] = bus;
}

Function read_identity(ConfigAccess& access, Address address) {
    Function function{};
    function.address = address;
    uint32_t ids = access.read32(address, kVendorId);
    function.vendor_id = uint16_t(ids);
    function.device_id = uint16_t(ids >> 16);
    uint32_t class_word = access.read32(address, kRevision);
    function.revision = uint8_t(class_word);
    function.prog_if = uint8_t(class_word >> 8);
    function.subclass = uint8_t(class_word >> 16);
    function.class_code = uint8_t(class_word >> 24);
    function.header_layout = access.read8(address, kHeaderType) & kHeaderLayoutMask;
    function.interrupt_line = access.read8(address, kInterrupt);
    function.interrupt_pin = access.read8(address, kInterrupt + 1);
    if (function.header_layout == kHeaderGeneral) {
        uint32_t subsystem = access.read32(address, kSubsystem);
        function.subsystem_vendor_id = uint16_t(subsystem);
        function.subsystem_id = uint16_t(subsystem >> 16);
    } else if (function.header_layout == kHeaderBridge) {
        function.secondary_bus = access.read8(address, kBridgeBuses + 1);
    }
    return function;
}

void visit_function(Walk& walk, Address address) {
    Function function = read_identity(walk.access, address);
    size_bars(walk.access, function);
    read_capabilities(walk.access, function);
    if (function.header_layout == kHeaderBridge) queue_bus(walk, function.secondary_bus);
    if (walk.sink.accept(function)) {
        ++walk.result.function_count;
    } else {
        ++walk.result.dropped;
    }
}

void scan_bus(Walk& walk, uint8_t bus) {
    ++walk.result.buses_scanned;
    for (uint8_t device = 0; device < kDevicesPerBus; ++device) {
        Address first{walk.range.segment, bus, device, 0};
        if (walk.access.read16(first, kVendorId) == kAbsentVendor) continue;
        bool multi = (walk.access.read8(first, kHeaderType) & kHeaderMultiFunction) != 0;
        uint8_t functions = multi ? kFunctionsPerDevice : 1;
        for (uint8_t number = 0; number < functions; ++number) {
            Address address{walk.range.segment, bus, device, number};
            if (number != 0 && walk.access.read16(address, kVendorId) == kAbsentVendor) continue;
            visit_function(walk, address);
        }
    }
}

}  // namespace

void note_problem(Function& function, Problem problem, uint8_t detail) {
    if (function.problem == Problem::None) {
        function.problem = problem;
        function.problem_detail = detail;
    }
    if (function.problem_count != 0xFF) ++function.problem_count;
}

const char* problem_name(Problem problem) {
    switch (problem) {
    case Problem::None:
        return "none";
    case Problem::CapabilityPointerInHeader:
        return "capability pointer into the header";
    case Problem::CapabilityLoop:
        return "capability list longer than 48 entries (a loop)";
    case Problem::BarMaskNotContiguous:
        return "BAR size is not a power of two";
    case Problem::Bar64InLastSlot:
        return "64-bit BAR in the last BAR register";
    case Problem::BarReservedType:
        return "BAR of reserved memory type 3";
    case Problem::MsixTableOutsideBar:
        return "MSI-X table or pending bits outside their BAR";
    case Problem::VirtioCapabilityTooShort:
        return "virtio capability shorter than 16 bytes";
    case Problem::VirtioStructureOutsideBar:
        return "virtio structure outside its BAR";
    case Problem::TooManyVirtioCapabilities:
        return "more than 8 virtio capabilities";
    case Problem::CapabilityPastConfigEnd:
        return "capability runs past the end of configuration space";
    }
    return "?";
}

Enumeration enumerate(ConfigAccess& access, const BusRange& range, FunctionSink& sink) {
    Walk walk{access, range, sink, {}, {}, {}, 0, 0};
    if (range.first_bus > range.last_bus) return walk.result;
    queue_bus(walk, range.first_bus);
    while (walk.queue_head < walk.queue_tail) scan_bus(walk, walk.queue[walk.queue_head++]);
    return walk.result;
}

Enumeration enumerate(ConfigAccess& access, const BusRange& range, Function* functions,
                      uint32_t capacity) {
    struct ArraySink final : FunctionSink {
        ArraySink(Function* functions, uint32_t capacity)
            : functions(functions), capacity(capacity) {}
        bool accept(const Function& function) override {
            if (count == capacity) return false;
            functions[count++] = function;
            return true;
        }
        Function* functions;
        uint32_t capacity;
        uint32_t count = 0;
    } sink{functions, capacity};
    return enumerate(access, range, sink);
}

}  // namespace umka::pci
