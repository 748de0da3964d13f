// nucleus_mechanism.Rings for the commands: found once through the directory (the slot is
// kept in the state), and a binding to the serial driver's CharDevice, the provider every
// ring workload and measurement calls.
#include "umka/kabi/nucleus_mechanism.hpp"
#include "workload.h"

namespace umka::workload {

namespace mechanism = umka::kabi::nucleus_mechanism;

bool find_rings(Command& command, mechanism::RingsRef* rings) {
    static constexpr char kPackage[] = "nucleus_mechanism";
    static constexpr char kInterface[] = "Rings";
    uint64_t slot = command.state.rings_slot;
    if (slot == 0 && !find_service(command.directory, kPackage, sizeof kPackage - 1, kInterface,
                                   sizeof kInterface - 1, 1, rings, &slot)) {
        return false;
    }
    command.state.rings_slot = slot;
    return umka::kabi::bind_service(reinterpret_cast<const UmkaServiceSlot*>(slot), rings).is_ok();
}

Status open_char_device_ring(const mechanism::RingsRef& rings, const char* name,
                             uint64_t name_length, mechanism::RingPlacement placement,
                             CharDeviceRing* ring) {
    static constexpr char kPackage[] = "char_device";
    static constexpr char kInterface[] = "CharDevice";
    return rings.open(kPackage, sizeof kPackage - 1, kInterface, sizeof kInterface - 1, name,
                      name_length, placement, 0, &ring->binding, &ring->slot, &ring->provider_slot);
}

}  // namespace umka::workload
