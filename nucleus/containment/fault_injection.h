// The fault-injection switch (containment.FaultInjection): armed by the fixture module for
// one module and one kind; the next guarded call into that module takes it and runs the
// module's own fault site (umka/fault_site.h) in place of the call.
#pragma once

#include <stdint.h>

#include "nucleus/lib/status.h"
#include "umka/fault_site.h"

namespace umka::containment {

struct ArmedFault {
    UmkaFaultSiteFunction site = nullptr;
    uint32_t kind = 0;       // as armed (containment.FaultKind)
    uint64_t scribbled = 0;  // CorruptState: bytes of state overwritten before the site runs
};

// The kind the module's fault site raises for `armed`: CorruptState crashes with ud2.
inline uint32_t site_kind(uint32_t armed) {
    return armed == UMKA_FAULT_CORRUPT_STATE ? UMKA_FAULT_INVALID_OPCODE : armed;
}

// NotFound: no loaded module of that name; NotSupported: it has no fault site;
// InvalidArgument: an unknown kind or a bad name; Busy: a fault is already armed.
Status arm_fault(const char* module, uint32_t kind);
// NotFound: nothing armed.
Status disarm_fault();
// True, once, for the first guarded call into `module` after arm_fault(): `armed` then holds
// the current instance's fault site. For CorruptState the instance's state regions are
// overwritten here, before its site runs.
bool take_armed_fault(const char* module, ArmedFault& armed);

}  // namespace umka::containment
