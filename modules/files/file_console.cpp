// The file console module (kabi-idl/modules/file_console.kabi): its console_command.CommandSet
// answers the file commands through the vfs.Vfs it was bound to. No state of its own.
#include "appender.h"
#include "file_bench.h"
#include "file_commands.h"
#include "umka/command_words.h"
#include "umka/kabi/console_command.hpp"
#include "umka/kabi/file_console_manifest.hpp"
#include "umka/module_entry.h"

namespace {

// Manifest order of kabi-idl/modules/file_console.kabi.
enum Required : uint32_t { kLog = 0, kVfs = 1, kThreads = 2, kClock = 3, kRequiredCount = 4 };
static_assert(kVfs == umka::files::kAppenderVfs && kThreads == umka::files::kAppenderThreads &&
              kClock == umka::files::kBenchClock);
constexpr uint32_t kCommandSet = 0;
constexpr uint32_t kMaximumWords = 64;

constexpr char kDescription[] =
    "ls          ls [-l] [PATH] | cat PATH | stat PATH | mkdir PATH | rmdir PATH | rm PATH | "
    "mv FROM TO | ln [-s] TARGET PATH | write PATH [TEXT...] | fill PATH BYTES SEED | "
    "sha256 PATH | mount [SOURCE TARGET TYPE] | umount PATH | df | sync | cd [PATH] | pwd | "
    "append [PATH LINES] | fbench DIR FILES MIB: "
    "files (vfs.Vfs)\n";

struct Commands {
    // Before an ordinary module's set (128): "stat" and friends are the files' here.
    static uint8_t precedence(void*) { return 120; }
    static umka::kabi::Status describe(void*, void* output, uint64_t capacity, uint64_t* written) {
        umka::CommandOutput out(static_cast<char*>(output), capacity);
        out.add(kDescription, sizeof kDescription - 1);
        *written = out.length();
        return out.truncated() ? umka::kabi::Status(UMKA_KABI_ENOSPC) : umka::kabi::Status::ok();
    }
    static umka::kabi::Status execute(void* context, const void* arguments,
                                      uint64_t arguments_length, uint32_t count, void* output,
                                      uint64_t capacity, uint64_t* written) {
        *written = 0;
        const char* words[kMaximumWords];
        if (!umka::split_command_words(arguments, arguments_length, count, words, kMaximumWords)) {
            return UMKA_KABI_EINVAL;
        }
        if (count == 0) return UMKA_KABI_ENOENT;
        const UmkaModuleBinding* binding = umka::kabi::binding_of(context);
        if (umka::same_word(words[0], "append")) {
            umka::CommandOutput out(static_cast<char*>(output), capacity);
            umka::kabi::Status status = umka::files::append_command(binding, words, count, out);
            *written = out.length();
            return status;
        }
        if (umka::same_word(words[0], "fbench")) {
            umka::CommandOutput out(static_cast<char*>(output), capacity);
            umka::kabi::Status status = umka::files::bench_command(binding, words, count, out);
            *written = out.length();
            return status;
        }
        if (!umka::files::knows(words[0])) return UMKA_KABI_ENOENT;
        umka::kabi::vfs::VfsRef vfs;
        umka::CommandOutput out(static_cast<char*>(output), capacity);
        umka::kabi::Status status = UMKA_KABI_ENODEV;
        if (umka::kabi::bind_required(binding, kVfs, &vfs).is_ok()) {
            // The console is the owner of descriptor table 0.
            umka::files::Owner console{vfs, umka::kabi::vfs::DescriptorTable{0}};
            status = umka::files::run_file_command(console, words, count, out);
            // To the console ENOENT means "not a command of this set"; a path that does
            // not exist was already named with its errno in the output.
            if (status.code() == UMKA_KABI_ENOENT) status = UMKA_KABI_EINVAL;
        } else {
            static constexpr char kNoVfs[] = "files: no vfs.Vfs version 3 is bound\n";
            out.add(kNoVfs, sizeof kNoVfs - 1);
        }
        *written = out.length();
        return status;
    }
};
static_assert(__is_empty(Commands), "module code keeps no state of its own");

constexpr umka::kabi::console_command::CommandSetVtable command_set_vtable =
    umka::kabi::console_command::make_command_set_vtable<Commands>();

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_FILE_CONSOLE();

UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, kRequiredCount, 1, 1)) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "binding of another manifest", 27);
    }
    if (umka::kabi::module_state<umka::files::AppenderState>(binding) == nullptr) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "no FileConsoleState region", 26);
    }
    return umka_module_provide(binding, kCommandSet, &command_set_vtable, binding);
}
