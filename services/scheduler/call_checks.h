// Argument checks shared by every SchedulerPolicy method (scheduler.cpp): each refusal is
// a status plus one log line naming the method and what is wrong with the argument.
#pragma once

#include <stdint.h>

#include "eevdf.h"
#include "policy_memory.h"
#include "umka/kabi/scheduler_state.hpp"

namespace umka::scheduler_module {

using kabi::Status;

// One call in progress: who to log through, the method's name, the attached arrays.
struct Call {
    void* context;
    const char* method;
    PolicyMemory memory;
};

// "<method>: ", to which a refusal adds what is wrong.
LineText text_for(const Call& call);
// Fills *call; ENXIO before the nucleus attached its arrays.
Status begin(void* context, const char* method, Call* call);
// EINVAL unless `cpu` names an attached run queue (`what` is the parameter's name).
Status check_cpu(const Call& call, uint32_t cpu, const char* what);
// EINVAL past the task array, ENOENT for a free slot.
Status check_task(const Call& call, uint32_t task);
// EINVAL outside -20..19.
Status check_nice(const Call& call, int8_t nice);
// EINVAL for a NULL output parameter.
Status check_output(const Call& call, const void* output, const char* name);

// Checks one array handed to attach (whole elements, aligned, at most `maximum`); its
// element count in *count.
Status check_array(void* context, const void* data, uint64_t length, uint64_t element_size,
                   uint64_t alignment, uint64_t maximum, const char* name, uint32_t* count);

// Imports `count` elements saved as `version` into `out` with the generated importer.
template <typename State, typename Import>
Status import_array(const Call& call, const void* old_data, uint32_t old_size, uint32_t version,
                    uint32_t count, State* out, Import import, const char* name) {
    const auto* bytes = static_cast<const uint8_t*>(old_data);
    for (uint32_t index = 0; index < count; ++index) {
        State imported{};
        if (import(bytes + uint64_t(index) * old_size, old_size, version, &imported).is_error()) {
            return refuse(call.context, UMKA_KABI_EINVAL,
                          text_for(call)
                              .add(name)
                              .add(" ")
                              .number(index)
                              .add(" does not import from version ")
                              .number(version));
        }
        out[index] = imported;
    }
    return Status::ok();
}

}  // namespace umka::scheduler_module
