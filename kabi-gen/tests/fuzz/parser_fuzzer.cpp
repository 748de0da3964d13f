// libFuzzer target: arbitrary bytes through the lexer, parser, semantic checks and, when
// the input is valid, every emitter. Any crash, sanitizer report or hang is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "diagnostics.h"
#include "emitters.h"
#include "workspace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    kabi::DiagnosticSink sink;
    kabi::Workspace workspace(sink, {});
    const kabi::File* file = workspace.load_text("/fuzz/fuzz.kabi", text);
    std::string rendered = sink.render_all();
    if (file != nullptr && !sink.has_errors()) {
        rendered += kabi::emit_cpp_header(*file);
        rendered += kabi::emit_c_header(*file);
        rendered += kabi::emit_ring_header(*file);
        rendered += kabi::emit_manifest_header(*file);
        rendered += kabi::emit_state_header(*file);
        rendered += kabi::emit_graph(workspace.files());
    }
    return rendered.empty() ? 0 : 0;
}
