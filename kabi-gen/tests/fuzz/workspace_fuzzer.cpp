// libFuzzer target: a workspace of several files with imports (fuzz_input.h), loaded as
// `kabi-gen FILE...` loads its inputs, then every emitter on a clean result. Reaches import
// search, cycles, depth and duplicate packages, and cross-package type resolution, which
// the one-file parser fuzzer cannot.
#include <cstddef>
#include <cstdint>

#include "diagnostics.h"
#include "emitters.h"
#include "fuzz_input.h"
#include "workspace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<kabi::fuzz::VirtualFile> files = kabi::fuzz::split_files(data, size, "/fuzz");
    kabi::DiagnosticSink sink;
    kabi::Workspace workspace(sink, {});
    for (const kabi::fuzz::VirtualFile& file : files)
        workspace.add_virtual_file(file.path, file.text);
    std::vector<const kabi::File*> loaded;
    for (const kabi::fuzz::VirtualFile& file : files) {
        if (const kabi::File* result = workspace.load(file.path)) loaded.push_back(result);
    }
    std::string rendered = sink.render_all();
    if (!sink.has_errors()) {
        for (const kabi::File* file : loaded) {
            rendered += kabi::emit_cpp_header(*file);
            rendered += kabi::emit_c_header(*file);
            rendered += kabi::emit_ring_header(*file);
            rendered += kabi::emit_manifest_header(*file);
            rendered += kabi::emit_state_header(*file);
        }
        rendered += kabi::emit_layout_probe_c(loaded);
        rendered += kabi::emit_graph(workspace.files());
    }
    return rendered.empty() ? 0 : 0;
}
