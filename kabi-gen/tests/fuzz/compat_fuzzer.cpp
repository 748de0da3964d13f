// libFuzzer target: kabi-gen --compat on a pair. The first file of the input
// (fuzz_input.h) is OLD, the second NEW, the rest are packages both sides can import; each
// side loads in its own workspace, as run_compat does, and a clean pair is compared.
#include <cstddef>
#include <cstdint>

#include "compat.h"
#include "diagnostics.h"
#include "fuzz_input.h"
#include "workspace.h"

namespace {

const kabi::File* load_side(kabi::Workspace& workspace, const std::string& directory,
                            const kabi::fuzz::VirtualFile& main_file,
                            const std::vector<kabi::fuzz::VirtualFile>& files) {
    for (size_t index = 2; index < files.size(); ++index) {
        workspace.add_virtual_file(directory + files[index].path, files[index].text);
    }
    return workspace.load_text(directory + main_file.path, main_file.text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<kabi::fuzz::VirtualFile> files = kabi::fuzz::split_files(data, size, "");
    if (files.size() < 2) return 0;
    kabi::DiagnosticSink old_sink, new_sink;
    kabi::Workspace old_workspace(old_sink, {}), new_workspace(new_sink, {});
    const kabi::File* old_file = load_side(old_workspace, "/old", files[0], files);
    const kabi::File* new_file = load_side(new_workspace, "/new", files[1], files);
    std::string rendered = old_sink.render_all() + new_sink.render_all();
    if (old_file && new_file && !old_sink.has_errors() && !new_sink.has_errors()) {
        for (const kabi::CompatFinding& finding : kabi::compare_packages(*old_file, *new_file)) {
            rendered += kabi::render_finding(finding);
        }
    }
    return rendered.empty() ? 0 : 0;
}
