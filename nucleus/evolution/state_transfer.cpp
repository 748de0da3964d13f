#include "nucleus/evolution/state_transfer.h"

namespace umka::evolution {
namespace {

const StateSource* predecessor_of(const StateTarget& target, const StateSource* sources,
                                  size_t source_count) {
    for (size_t index = 0; index < source_count; ++index) {
        if (__builtin_strcmp(sources[index].name, target.name) == 0) return &sources[index];
    }
    return nullptr;
}

}  // namespace

Result<size_t> transfer_states(const StateSource* sources, size_t source_count,
                               const StateTarget* targets, size_t target_count,
                               UmkaStateImportFunction import_function, TransferMode mode,
                               SwapCause cause, const char* module_name,
                               modules::Diagnostic& diagnostic) {
    const char* phase = mode == TransferMode::DryRun     ? "dry run"
                        : mode == TransferMode::Prebuild ? "build before the pause"
                                                         : "commit";
    size_t carried = 0;
    for (size_t index = 0; index < target_count; ++index) {
        const StateTarget& target = targets[index];
        const StateSource* source = predecessor_of(target, sources, source_count);
        if (source == nullptr) continue;
        if (import_function == nullptr && source->schema_version != target.schema_version) {
            return modules::refuse(diagnostic, Errno::InvalidArgument,
                                   "'%s' cannot take over state '%s': version %u -> %u needs an "
                                   "import function and the module set none",
                                   module_name, target.name, source->schema_version,
                                   target.schema_version);
        }
        if (import_function == nullptr && target.size < source->size) {
            return modules::refuse(diagnostic, Errno::InvalidArgument,
                                   "'%s': state '%s' holds %lu bytes, the old one %lu", module_name,
                                   target.name, target.size, source->size);
        }
        // The contract hands the import a zero-filled region in both modes, so a commit
        // never depends on what the module's entry point left there.
        __builtin_memset(target.base, 0, target.size);
        if (import_function == nullptr) {
            __builtin_memcpy(target.base, source->base, source->size);
        } else {
            UmkaStateImport import{
                uint32_t(index),
                source->schema_version,
                source->base,
                source->size,
                target.base,
                target.size,
                mode == TransferMode::DryRun ? UMKA_STATE_IMPORT_DRY_RUN : UMKA_STATE_IMPORT_COMMIT,
                cause == SwapCause::CrashRestart ? UMKA_STATE_IMPORT_CAUSE_CRASH
                                                 : UMKA_STATE_IMPORT_CAUSE_EVOLVE};
            int32_t result = import_function(&import);
            if (result != 0) {
                Errno error =
                    (result > 0 && result < 4096) ? Errno(result) : Errno::InvalidArgument;
                return modules::refuse(diagnostic, error,
                                       "'%s' refused state '%s' (version %u -> %u) in the %s: %s",
                                       module_name, target.name, source->schema_version,
                                       target.schema_version, phase, errno_name(error));
            }
        }
        ++carried;
    }
    return carried;
}

}  // namespace umka::evolution
