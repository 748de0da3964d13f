// The workload module: `load`, `heap`, `probe` and `measure` on the console, offered through
// console_command.CommandSet and done through public interfaces only (README.md). Module
// code keeps no state of its own: everything is in WorkloadState (nucleus memory).
#include "workload.h"

#include "umka/command_words.h"
#include "umka/kabi/workload_manifest.hpp"
#include "umka/number_text.h"

namespace commands = umka::kabi::console_command;

namespace umka::workload {

Interrupt::Interrupt(const directory::DirectoryRef& directory, const services::ClockRef& clock)
    : clock_(clock) {
    static constexpr char kPackage[] = "console_command";
    static constexpr char kInterface[] = "Interrupt";
    available_ = find_service(directory, kPackage, sizeof kPackage - 1, kInterface,
                              sizeof kInterface - 1, 1, &interrupt_);
    last_poll_ns_ = clock_.now_ns();
}

bool Interrupt::poll() {
    if (!available_) return false;
    uint64_t now = clock_.now_ns();
    if (now - last_poll_ns_ < kInterruptPollNs) return false;
    last_poll_ns_ = now;
    uint8_t interrupted = 0;
    return interrupt_.poll(&interrupted).is_ok() && interrupted != 0;
}

Status run_console_command(Command& command, const char* name, uint64_t name_length) {
    // The command may be a module's: ask every command set but this one's own.
    static constexpr char kPackage[] = "console_command";
    static constexpr char kInterface[] = "CommandSet";
    char words[32];
    if (name_length + 1 > sizeof words) return UMKA_KABI_EINVAL;
    __builtin_memcpy(words, name, name_length);
    words[name_length] = '\0';
    for (uint32_t index = 0; index < 32; ++index) {
        uint64_t slot = 0;
        if (command.directory
                .provider(kPackage, sizeof kPackage - 1, kInterface, sizeof kInterface - 1, index,
                          1, &slot)
                .is_error()) {
            break;
        }
        commands::CommandSetRef set;
        if (umka::kabi::bind_service(reinterpret_cast<const UmkaServiceSlot*>(slot), &set)
                .is_error() ||
            set.context() == static_cast<const void*>(command.binding)) {
            continue;
        }
        uint64_t written = 0;
        Status status =
            set.execute(words, name_length + 1, 1, command.out.end(), command.out.room(), &written);
        if (status.code() == UMKA_KABI_ENOENT) continue;
        command.out.advance(written);
        return status;
    }
    return UMKA_KABI_ENOENT;
}

}  // namespace umka::workload

namespace {

using umka::workload::Command;
using umka::workload::Output;
using umka::workload::Status;
namespace workload = umka::workload;

constexpr uint32_t kProvidedCount = 1;
constexpr uint32_t kStateCount = 1;
constexpr uint32_t kCommandSet = 0;
constexpr uint32_t kMaximumWords = 32;

constexpr char kDescription[] =
    "load        load start cpu|alloc|sleep N (N <= 256) | load start ring|serial N (N <= 32) "
    "| load stats | load stop: threads that prove progress\n"
    "heap        heap: the heap module's size classes; heap exercise N (N <= 1000000): N "
    "checked allocate+free pairs\n"
    "probe       probe threads N (N <= 32): N threads of the thread_probe module (spawn, "
    "hand-off, join, bad calls) | probe rings: nucleus_mechanism.Rings with bad calls | probe "
    "dma|mmio: bus_access.Dma buffers / Mmio refusals\n"
    "measure     measure caps | switch [ROUNDS] | ring [ROUNDS] | direct [ROUNDS] (ROUNDS <= "
    "10000000): a directory lookup / context switch / ring round trip / direct call into the "
    "console service, beside a baseline\n";

struct Commands {
    // After the shell's (0): an ordinary module's set (console_command.kabi).
    static uint8_t precedence(void*) { return 128; }
    static Status describe(void*, void* output, uint64_t capacity, uint64_t* written) {
        Output out(static_cast<char*>(output), capacity);
        out.add(kDescription);
        *written = out.length();
        return out.truncated() ? Status(UMKA_KABI_ENOSPC) : Status::ok();
    }

    static Status execute(void* context, const void* arguments, uint64_t arguments_length,
                          uint32_t count, void* output, uint64_t capacity, uint64_t* written) {
        *written = 0;
        const char* words[kMaximumWords];
        if (!umka::split_command_words(arguments, arguments_length, count, words, kMaximumWords)) {
            return UMKA_KABI_EINVAL;
        }
        using Handler = Status (*)(Command&);
        Handler handler = nullptr;
        if (workload::same_text(words[0], "load")) handler = workload::load_command;
        if (workload::same_text(words[0], "heap")) handler = workload::heap_command;
        if (workload::same_text(words[0], "probe")) handler = workload::probe_command;
        if (workload::same_text(words[0], "measure")) handler = workload::measure_command;
        if (handler == nullptr) return UMKA_KABI_ENOENT;

        const UmkaModuleBinding* binding = umka::kabi::binding_of(context);
        Output out(static_cast<char*>(output), capacity);
        Command command{binding,  *workload::state_of(binding), {}, {}, {}, out, words + 1,
                        count - 1};
        if (umka::kabi::bind_required(binding, workload::kThreads, &command.threads).is_error() ||
            umka::kabi::bind_required(binding, workload::kClock, &command.clock).is_error() ||
            umka::kabi::bind_required(binding, workload::kDirectory, &command.directory)
                .is_error()) {
            out.add(words[0]).add(": a required nucleus service is not bound\n");
            *written = out.length();
            return UMKA_KABI_EINVAL;
        }
        Status status = handler(command);
        *written = out.length();
        if (status.is_ok() && out.truncated()) return UMKA_KABI_ENOSPC;
        return status;
    }
};
static_assert(__is_empty(Commands));

constexpr umka::kabi::console_command::CommandSetVtable command_set_vtable =
    umka::kabi::console_command::make_command_set_vtable<Commands>();

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_WORKLOAD();

// Answers with the command set only: the module calls no service until a command runs.
UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, workload::kRequiredCount, kProvidedCount,
                                     kStateCount)) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "binding of another manifest", 27);
    }
    if (workload::state_of(binding) == nullptr) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "no WorkloadState region", 23);
    }
    return umka_module_provide(binding, kCommandSet, &command_set_vtable, binding);
}
