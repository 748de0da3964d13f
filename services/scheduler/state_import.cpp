// Taking over a predecessor's state (state_import.h).
#include "state_import.h"

#include "call_checks.h"
#include "eevdf.h"
#include "policy_memory.h"
#include "schema_versions.h"
#include "umka/kabi/scheduler_state.hpp"

namespace umka::scheduler_module {

namespace {

using eevdf::RunQueueState;
using eevdf::TaskState;

static_assert(schema::run_queue_state_version <= 2 && schema::task_state_version <= 2,
              "element_size knows version 1 and the current one: add the versions between");

// Element size of `version` of a schema whose version-1 and current layouts are V1 and
// Current. A newer version is only known by its size, taken from the array: `length` over
// `count` elements. 0: not importable.
template <typename V1, typename Current>
uint64_t element_size(uint32_t version, uint32_t current_version, uint64_t length, uint32_t count) {
    if (version == 1) return sizeof(V1);
    if (version == current_version) return sizeof(Current);
    if (version < current_version || count == 0 || length % count != 0) return 0;
    uint64_t size = length / count;
    return size >= sizeof(Current) && size % alignof(Current) == 0 ? size : 0;
}

}  // namespace

kabi::Status import_states(void* context, const void* old_run_queues,
                           uint64_t old_run_queues_length, uint32_t old_run_queue_version,
                           const void* old_tasks, uint64_t old_tasks_length,
                           uint32_t old_task_version) {
    Call call;
    if (Status status = begin(context, "import_states", &call); status.is_error()) {
        return status;
    }
    uint64_t queue_size = element_size<schema::RunQueueStateV1, RunQueueState>(
        old_run_queue_version, schema::run_queue_state_version, old_run_queues_length,
        call.memory.run_queue_count);
    uint64_t task_size = element_size<schema::TaskStateV1, TaskState>(
        old_task_version, schema::task_state_version, old_tasks_length, call.memory.task_capacity);
    if (queue_size == 0 || task_size == 0) {
        return refuse(context, UMKA_KABI_EINVAL,
                      text_for(call)
                          .add("RunQueueState version ")
                          .number(old_run_queue_version)
                          .add(" or TaskState version ")
                          .number(old_task_version)
                          .add(" is unknown to this module (it knows 1..")
                          .number(schema::task_state_version)
                          .add(", and newer ones with arrays of the attached sizes)"));
    }
    if (old_run_queues == nullptr || old_tasks == nullptr ||
        old_run_queues_length != queue_size * call.memory.run_queue_count ||
        old_tasks_length % task_size != 0 ||
        old_tasks_length / task_size > call.memory.task_capacity) {
        return refuse(context, UMKA_KABI_EINVAL,
                      text_for(call)
                          .add("old arrays (")
                          .number(old_run_queues_length)
                          .add(" and ")
                          .number(old_tasks_length)
                          .add(" bytes) do not fit the attached ")
                          .number(call.memory.run_queue_count)
                          .add(" run queues and ")
                          .number(call.memory.task_capacity)
                          .add(" task slots"));
    }
    uint32_t old_task_count = uint32_t(old_tasks_length / task_size);
    auto import_queue = [](const void* bytes, uint32_t size, uint32_t version, RunQueueState* out) {
        return schema::import_run_queue_state<kabi::NoMigrationHooks>(bytes, size, version, out);
    };
    auto import_task = [](const void* bytes, uint32_t size, uint32_t version, TaskState* out) {
        return schema::import_task_state<MigrationHooks>(bytes, size, version, out);
    };
    if (Status status = import_array(call, old_run_queues, uint32_t(queue_size),
                                     old_run_queue_version, call.memory.run_queue_count,
                                     call.memory.run_queues, import_queue, "run queue");
        status.is_error()) {
        return status;
    }
    if (Status status = import_array(call, old_tasks, uint32_t(task_size), old_task_version,
                                     old_task_count, call.memory.tasks, import_task, "task");
        status.is_error()) {
        return status;
    }
    for (uint32_t index = old_task_count; index < call.memory.task_capacity; ++index) {
        call.memory.tasks[index] = TaskState{};
    }
    return check_consistency(context, "import_states", call.memory);
}

}  // namespace umka::scheduler_module
