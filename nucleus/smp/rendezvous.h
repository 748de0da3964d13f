// "Run this on every CPU and wait": the cross-CPU primitive the live-swap protocol uses.
//
// Protocol: the initiator publishes a call under rendezvous_lock, signals every other
// online CPU, runs the function itself and waits until each CPU has acknowledged.
// In HoldUntilReleased mode the other CPUs then spin with interrupts off until the
// initiator's function has returned, so the initiator's function runs while the whole
// machine is stopped (the stop-the-world window of an evolution swap).
#pragma once

#include <stdint.h>

#include "nucleus/lib/status.h"

namespace umka::smp {

using CpuFunction = void (*)(void* argument);

enum class RendezvousMode : uint8_t {
    RunEverywhere,      // each CPU runs the function, then continues
    HoldUntilReleased,  // others stop; only the initiator runs the function
};

struct RendezvousResult {
    uint32_t participants;      // CPUs that took part, the initiator included
    uint64_t cycles_to_gather;  // from signal to the last acknowledgement
    uint64_t cycles_total;
};

Result<RendezvousResult> rendezvous(RendezvousMode mode, CpuFunction function, void* argument);

// Called from the rendezvous interrupt on each target CPU.
void handle_rendezvous_interrupt();

}  // namespace umka::smp
