// A module whose first start raises #UD: the boot-time start functions run guarded
// (docs/crash-containment.md, "A crash in start-up"). The count of starts lives in the
// module's state, so the fresh instance the nucleus loads after the crash, which carries
// that state over, knows it is the second and starts.
#include "umka/kabi/kernel_services.hpp"
#include "umka/kabi/start_crash_manifest.hpp"
#include "umka/kabi/start_crash_state.hpp"
#include "umka/line_text.h"
#include "umka/module_entry.h"

namespace {

namespace services = umka::kabi::kernel_services;
using State = umka::kabi::start_crash::StartCrashState;

enum Required : uint32_t { kLog = 0, kRequiredCount = 1 };
constexpr uint32_t kProvidedCount = 0;
constexpr uint32_t kStateCount = 1;

void log_line(const UmkaModuleBinding* binding, const char* text, uint64_t length) {
    services::LogRef log;
    if (umka::kabi::bind_required(binding, kLog, &log).is_ok()) {
        log.write(services::LogLevel::Info, text, length);
    }
}

int32_t start(UmkaModuleBinding* binding) {
    State& state = *umka::kabi::module_state<State>(binding);
    uint32_t starts = ++state.starts;
    umka::LineText<80> line;
    line.add("start_crash: start ").number(starts);
    if (starts == 1) {
        line.add(": raising #UD");
        log_line(binding, line.data(), line.length());
        __builtin_trap();
    }
    line.add(": started");
    log_line(binding, line.data(), line.length());
    return UMKA_KABI_OK;
}

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_START_CRASH();

UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, kRequiredCount, kProvidedCount, kStateCount) ||
        umka::kabi::module_state<State>(binding) == nullptr) {
        return UMKA_KABI_EINVAL;
    }
    return umka_module_set_start(binding, start);
}
