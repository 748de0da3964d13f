// Moving a module's state to its replacement (module_entry.h, UmkaStateImport): each state
// region of the new module that has a predecessor (the old instance's region with the same
// schema name) is imported by the new module's import function, or, when it set none,
// copied byte for byte if the schema versions are the same (refused otherwise). Regions
// without a predecessor keep what the new module's entry point put there. Pure: the
// nucleus runs it for the dry run (into scratch regions) and for the commit (into the real
// regions, inside the stop-the-world pause); the host tests run the same code.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"
#include "nucleus/module/diagnostic.h"
#include "umka/module_entry.h"

namespace umka::evolution {

// One state region of the running instance.
struct StateSource {
    const char* name;  // schema name from its manifest
    uint32_t schema_version;
    const void* base;
    uint64_t size;  // bytes of its schema version (the manifest's size)
};

// One state region of the replacement, in its manifest `states` order.
struct StateTarget {
    const char* name;
    uint32_t schema_version;  // the version the new module declares
    void* base;               // 16-byte aligned; zero-filled here before each import
    uint64_t size;            // at least the manifest's size
};

// Why the module is replaced. A live evolution whose replacement refuses the state it was
// to carry over is refused (the old module serves on). A restart after a crash
// (docs/crash-containment.md) tells the import so (UMKA_STATE_IMPORT_CAUSE_CRASH: it may take
// over what the crashed instance held), and a state it refuses is replaced by fresh state
// (the old state may be what crashed it); only for modules whose state no pause hook keeps
// beside their regions.
enum class SwapCause : uint8_t { Evolve, CrashRestart };

// Prebuild: into the real region before the pause, from a snapshot (state_snapshot.h); the
// module sees UMKA_STATE_IMPORT_COMMIT, as for Commit (inside the pause).
enum class TransferMode : uint8_t { DryRun, Prebuild, Commit };

// How many targets had a predecessor (imported or copied); Errno::InvalidArgument for a
// version change without an import function or a region too small for the copy, the
// module's errno when its import function refuses. The reason names the module and state.
Result<size_t> transfer_states(const StateSource* sources, size_t source_count,
                               const StateTarget* targets, size_t target_count,
                               UmkaStateImportFunction import_function, TransferMode mode,
                               SwapCause cause, const char* module_name,
                               modules::Diagnostic& diagnostic);

}  // namespace umka::evolution
