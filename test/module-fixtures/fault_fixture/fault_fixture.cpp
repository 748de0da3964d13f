// The fault-injection fixture: `inject MODULE KIND` arms containment.FaultInjection, so the
// next guarded call into MODULE (a request its ring provider thread serves) runs the SDK
// runtime's fault site inside MODULE's own image and raises KIND there
// (docs/crash-containment.md). `inject off` disarms a fault that has not fired.
#include "umka/command_output.h"
#include "umka/command_words.h"
#include "umka/errno_text.h"
#include "umka/kabi/console_command.hpp"
#include "umka/kabi/containment.hpp"
#include "umka/kabi/fault_fixture_manifest.hpp"
#include "umka/line_text.h"
#include "umka/module_entry.h"

namespace {

namespace containment = umka::kabi::containment;
using umka::kabi::Status;

enum Required : uint32_t { kFaultInjection = 0, kRequiredCount = 1 };
enum Provided : uint32_t { kCommandSet = 0, kProvidedCount = 1 };
constexpr uint32_t kMaximumWords = 4;

struct KindName {
    const char* word;
    containment::FaultKind kind;
};
constexpr KindName kKinds[] = {
    {"null", containment::FaultKind::NullWrite},
    {"opcode", containment::FaultKind::InvalidOpcode},
    {"divide", containment::FaultKind::DivideByZero},
    {"noncanonical", containment::FaultKind::NonCanonical},
    {"hang", containment::FaultKind::Hang},
    {"stack", containment::FaultKind::StackOverflow},
    {"state", containment::FaultKind::CorruptState},
    {"start", containment::FaultKind::EveryStart},
    {"wild", containment::FaultKind::WildWrite},
};

struct Commands {
    static uint8_t precedence(void*) { return 128; }
    static Status describe(void*, void* output, uint64_t capacity, uint64_t* written) {
        static constexpr char kText[] =
            "inject      inject MODULE "
            "null|opcode|divide|noncanonical|hang|stack|state|start|wild: "
            "MODULE's next guarded call raises that fault (start: every new instance's start-up, "
            "until off) | inject off\n";
        uint64_t length = sizeof kText - 1 < capacity ? sizeof kText - 1 : capacity;
        __builtin_memcpy(output, kText, length);
        *written = length;
        return length == sizeof kText - 1 ? Status::ok() : Status(UMKA_KABI_ENOSPC);
    }

    static Status execute(void* context, const void* arguments, uint64_t arguments_length,
                          uint32_t count, void* output, uint64_t capacity, uint64_t* written) {
        *written = 0;
        const char* words[kMaximumWords];
        if (!umka::split_command_words(arguments, arguments_length, count, words, kMaximumWords)) {
            return UMKA_KABI_EINVAL;
        }
        if (!umka::same_word(words[0], "inject")) return UMKA_KABI_ENOENT;
        umka::CommandOutput out(static_cast<char*>(output), capacity);
        containment::FaultInjectionRef injection;
        Status bound =
            umka::kabi::bind_required(umka::kabi::binding_of(context), kFaultInjection, &injection);
        umka::LineText<160> line;
        Status status = UMKA_KABI_EINVAL;
        if (bound.is_error()) {
            out.line(line.add("inject: no containment.FaultInjection is bound"));
            status = UMKA_KABI_ENODEV;
        } else if (count == 2 && umka::same_word(words[1], "off")) {
            status = injection.disarm();
            out.line(status.is_ok() ? line.add("inject: disarmed")
                                    : line.add("inject: nothing was armed (ENOENT)"));
        } else if (count == 3) {
            const KindName* kind = nullptr;
            for (const KindName& candidate : kKinds) {
                if (umka::same_word(words[2], candidate.word)) kind = &candidate;
            }
            if (kind == nullptr) {
                out.line(line.add("inject: unknown fault '")
                             .add(words[2])
                             .add("' (null, opcode, divide, noncanonical, hang, stack, state, "
                                  "start, wild)"));
            } else {
                status = injection.arm(words[1], __builtin_strlen(words[1]), kind->kind);
                if (status.is_ok()) {
                    line.add("inject: armed ").add(kind->word).add(" in '").add(words[1]);
                    out.line(line.add(kind->kind == containment::FaultKind::EveryStart
                                          ? "': every new instance's start-up faults"
                                          : "': its next guarded call faults"));
                } else {
                    line.add("inject: ")
                        .add(umka::errno_text(status.code()))
                        .add(" ")
                        .add(words[1]);
                    if (kind->kind == containment::FaultKind::WildWrite &&
                        status.code() == UMKA_KABI_EOPNOTSUPP) {
                        line.add(" (no memory domain: the write would land in the nucleus)");
                    }
                    out.line(line);
                }
            }
        } else {
            out.line(
                line.add("usage: inject MODULE null|opcode|divide|noncanonical|hang|stack|state|"
                         "start|wild | inject off"));
        }
        *written = out.length();
        // ENOENT from execute means "not my command" to the console: a refusal that says
        // ENOENT (no such module, nothing armed) is a bad argument here, explained above.
        if (status.code() == UMKA_KABI_ENOENT) status = UMKA_KABI_EINVAL;
        return status.is_ok() && out.truncated() ? Status(UMKA_KABI_ENOSPC) : status;
    }
};

constexpr umka::kabi::console_command::CommandSetVtable command_set_vtable =
    umka::kabi::console_command::make_command_set_vtable<Commands>();

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_FAULT_FIXTURE();

UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, kRequiredCount, kProvidedCount, 0)) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "binding of another manifest", 27);
    }
    return umka_module_provide(binding, kCommandSet, &command_set_vtable, binding);
}
