// Building a replacement's state before the pause (docs/evolution.md, "Pre-built state").
//
// State that the running module keeps changing cannot be final before every CPU stops, but
// most of it does not change in the short time between Validate and the pause. So Validate
// copies each old region into a snapshot and builds the new module's state from the copy;
// inside the pause the live bytes are compared with the snapshot. Equal bytes mean the
// pre-built state is exactly what an import inside the pause would produce (an import is a
// pure function of the old bytes: module_entry.h), so the pause only commits pointers.
// Any difference, however small, and the pause imports the live bytes again (the old path).
// The comparison is sound even though the snapshot may be torn (taken while other CPUs ran):
// inside the pause no call is in flight, so the live bytes are a consistent state, and a
// snapshot equal to them is that state.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/evolution/state_transfer.h"

namespace umka::evolution {

// What the pause had to do with the state the replacement takes over.
enum class PauseWork : uint8_t {
    CommitOnly,  // every pre-built state was current: only pointers were committed
    Rebuilt,     // some old state changed since Validate: imported again inside the pause
};

// Whether the live state may have changed since the refresh right before the pause made the
// pre-built state current (module_swap.cpp's refresh_prebuilt).
enum class SinceRefresh : uint8_t {
    MayHaveChanged,  // other CPUs ran until they stopped: compare the live bytes again
    Unchanged,       // no other CPU is online and the initiator kept interrupts off: nothing
                     // ran, so the refresh's comparison still holds
};

// Whether `length` bytes at `left` and `right` are equal. Word-wise: inside the pause it
// is the whole cost of a region that did not change.
bool same_bytes(const void* left, const void* right, uint64_t length);

// Copies each live region into snapshots[index] (at least live[index].size bytes) and
// describes the copies in `copies` (same names and versions), ready for transfer_states.
void take_snapshots(const StateSource* live, size_t count, void* const* snapshots,
                    StateSource* copies);

// Whether every live region still holds the bytes of its copy.
bool snapshots_current(const StateSource* live, const StateSource* copies, size_t count);

}  // namespace umka::evolution
