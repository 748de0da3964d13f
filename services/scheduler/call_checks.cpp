// Argument checks shared by every SchedulerPolicy method (call_checks.h).
#include "call_checks.h"

namespace umka::scheduler_module {

using eevdf::TaskRunState;

LineText text_for(const Call& call) {
    LineText text;
    text.add(call.method).add(": ");
    return text;
}

// ENXIO before the nucleus attached its arrays.
Status begin(void* context, const char* method, Call* call) {
    call->context = context;
    call->method = method;
    call->memory = memory_of(globals_of(context));
    if (call->memory.run_queue_count == 0) {
        return refuse(context, UMKA_KABI_ENXIO,
                      text_for(*call).add("no run queues attached yet (call attach first)"));
    }
    return Status::ok();
}

Status check_cpu(const Call& call, uint32_t cpu, const char* what) {
    if (cpu < call.memory.run_queue_count) return Status::ok();
    return refuse(call.context, UMKA_KABI_EINVAL,
                  text_for(call)
                      .add(what)
                      .add(" ")
                      .number(cpu)
                      .add(" is not a CPU (")
                      .number(call.memory.run_queue_count)
                      .add(" run queues attached)"));
}

// EINVAL past the task array, ENOENT for a free slot.
Status check_task(const Call& call, uint32_t task) {
    if (task >= call.memory.task_capacity) {
        return refuse(call.context, UMKA_KABI_EINVAL,
                      text_for(call)
                          .add("task ")
                          .number(task)
                          .add(" is past the task array (")
                          .number(call.memory.task_capacity)
                          .add(" slots)"));
    }
    if (call.memory.tasks[task].run_state == uint8_t(TaskRunState::Unused)) {
        return refuse(
            call.context, UMKA_KABI_ENOENT,
            text_for(call).add("task ").number(task).add(" was never created (free slot)"));
    }
    return Status::ok();
}

Status check_nice(const Call& call, int8_t nice) {
    if (nice >= eevdf::kMinimumNice && nice <= eevdf::kMaximumNice) return Status::ok();
    return refuse(call.context, UMKA_KABI_EINVAL,
                  text_for(call).add("nice ").signed_number(nice).add(" is outside -20..19"));
}

Status check_output(const Call& call, const void* output, const char* name) {
    if (output != nullptr) return Status::ok();
    return refuse(call.context, UMKA_KABI_EINVAL, text_for(call).add(name).add(" is NULL"));
}


// Checks one array handed to attach; its element count in *count.
Status check_array(void* context, const void* data, uint64_t length, uint64_t element_size,
                   uint64_t alignment, uint64_t maximum, const char* name, uint32_t* count) {
    LineText text;
    text.add("attach: ").add(name).add(" array");
    if (data == nullptr || length == 0 || length % element_size != 0) {
        return refuse(context, UMKA_KABI_EINVAL,
                      text.add(" of ")
                          .number(length)
                          .add(" bytes is not a whole, nonzero number of ")
                          .number(element_size)
                          .add("-byte states"));
    }
    if (uintptr_t(data) % alignment != 0) {
        return refuse(context, UMKA_KABI_EINVAL,
                      text.add(" is not ").number(alignment).add("-byte aligned"));
    }
    if (length / element_size > maximum) {
        return refuse(context, UMKA_KABI_EINVAL,
                      text.add(" has more than ").number(maximum).add(" states"));
    }
    *count = uint32_t(length / element_size);
    return Status::ok();
}

}  // namespace umka::scheduler_module
