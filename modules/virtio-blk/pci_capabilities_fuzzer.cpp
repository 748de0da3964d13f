// libFuzzer over the virtio PCI capability walk (umka/virtio/pci_capabilities.h): the input
// is 256 bytes of configuration space and six BAR lengths, as a hostile device could make
// them. Invariants (abort() otherwise; ASan catches any read outside the 256 bytes): the walk
// ends; a success names four structures, each inside a memory BAR; a refusal leaves the
// output untouched.
#include <umka/virtio/pci_capabilities.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace umka::virtio;
    uint8_t config[kConfigBytes]{};
    uint64_t bars[6]{};
    std::memcpy(config, data, size < kConfigBytes ? size : kConfigBytes);
    if (size > kConfigBytes) {
        std::memcpy(bars, data + kConfigBytes,
                    size - kConfigBytes < sizeof bars ? size - kConfigBytes : sizeof bars);
    }
    StructureLocations found;
    found.notify_multiplier = 0xABCD;
    CapabilityProblem problem = find_structures(config, bars, &found);
    if (problem != CapabilityProblem::None) {
        if (found.common.found || found.notify_multiplier != 0xABCD) abort();
        return 0;
    }
    for (const StructureLocation* location :
         {&found.common, &found.notify, &found.isr, &found.device}) {
        if (!location->found || location->bar > 5 || bars[location->bar] == 0) abort();
        if (uint64_t(location->offset) + location->length > bars[location->bar]) abort();
    }
    return 0;
}
