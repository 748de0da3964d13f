// The fault-injection switch (containment.FaultInjection): armed by the fixture module for
// one module and one kind; the next guarded call into that module takes it and runs the
// module's own fault site (umka/fault_site.h) in place of the call. EveryStart is armed apart
// and stays until disarmed: every start-up of a new instance runs the site instead.
#pragma once

#include <stdint.h>

#include "nucleus/lib/status.h"
#include "umka/fault_site.h"

namespace umka::containment {

struct ArmedFault {
    UmkaFaultSiteFunction site = nullptr;
    uint32_t kind = 0;       // as armed (containment.FaultKind)
    uint64_t scribbled = 0;  // CorruptState: bytes of state overwritten before the site runs
    uint64_t target = 0;     // WildWrite: the nucleus word the site writes to
};

// The kind the module's fault site raises for `armed`: CorruptState and EveryStart crash
// with ud2.
inline uint32_t site_kind(uint32_t armed) {
    return armed == UMKA_FAULT_CORRUPT_STATE || armed == UMKA_FAULT_EVERY_START
               ? UMKA_FAULT_INVALID_OPCODE
               : armed;
}

// NotFound: no loaded module of that name; NotSupported: it has no fault site, or the
// kind is WildWrite and module code runs without memory domains (the write would land);
// InvalidArgument: an unknown kind or a bad name; Busy: a call fault is already armed (for
// EveryStart: a start-up fault is). The two are armed apart, so one call fault can set off
// a restart whose every start-up crashes.
Status arm_fault(const char* module, uint32_t kind);
// NotFound: nothing armed. Disarms both the call fault and EveryStart.
Status disarm_fault();
// True, once, for the first guarded call into `module` after arm_fault(): `armed` then holds
// the current instance's fault site. For CorruptState the instance's state regions are
// overwritten here, before its site runs.
bool take_armed_fault(const char* module, ArmedFault& armed);
// The word of the nucleus's .bss a WildWrite aims at, and whether it still holds the value
// it was given at boot (the write did not land).
uint64_t wild_write_target();
bool wild_write_target_intact();

// True for every start-up of a new instance of `module` while EveryStart is armed for it
// (until disarm_fault()): `armed` then holds `site`, the new instance's fault site.
bool start_fault_armed(const char* module, UmkaFaultSiteFunction site, ArmedFault& armed);

}  // namespace umka::containment
