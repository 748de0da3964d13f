// libFuzzer target: arbitrary bytes through the module loader (validate, load, relocate,
// protect, manifest parse over the loaded copy) and through the manifest parser directly.
// Every input must end in success or a refusal with a reason; ASan/UBSan catch the rest.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nucleus/module/elf_module.h"
#include "nucleus/module/manifest.h"

namespace {

using umka::Errno;
using umka::Result;
using umka::Status;
using umka::modules::Diagnostic;
using umka::modules::ModuleMemory;
using umka::modules::SegmentAccess;

// Heap-backed module memory: no mmap churn, so the fuzzer runs fast; protections are
// recorded but not applied (the host tests check real protections).
Result<void*> reserve(void*, size_t bytes) {
    void* memory = aligned_alloc(umka::modules::kModulePageSize, bytes);
    if (memory == nullptr) return Errno::OutOfMemory;
    return memory;
}
Status protect(void*, void*, size_t, SegmentAccess) {
    return Status::ok();
}
void release(void*, void* start, size_t) {
    free(start);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ModuleMemory memory{nullptr, &reserve, &protect, &release};
    Diagnostic diagnostic;
    auto loaded = umka::modules::load_module(data, size, memory, diagnostic);
    if (loaded.is_ok()) {
        const auto& module = loaded.value();
        // Touch what the nucleus reads next: the manifest through the view.
        for (size_t index = 0; index < module.manifest_view.required_count(); ++index) {
            (void)strlen(module.manifest_view.required(index).name);
        }
        umka::modules::unload_module(module, memory);
    } else if (diagnostic.is_empty()) {
        abort();  // a refusal without a reason
    }
    Diagnostic manifest_diagnostic;
    auto manifest = umka::modules::ManifestView::parse(data, size, manifest_diagnostic);
    if (manifest.is_error() && manifest_diagnostic.is_empty()) abort();
    return 0;
}
