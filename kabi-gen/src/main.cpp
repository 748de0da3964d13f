// kabi-gen command line: generate headers, check compatibility, draw the service graph.
// Usage: kabi-gen --help.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "compat.h"
#include "emitters.h"
#include "workspace.h"

namespace {

constexpr const char* usage_text = R"(usage:
  kabi-gen [-I DIR]... --out-dir DIR [--emit KINDS] FILE.kabi...
      Generate headers under DIR/umka/kabi/. KINDS is a comma list of
      base, cpp, c, ring, manifest, state, layout-probe, ring-table
      (default: base,cpp,c,ring,manifest,state). ring-table writes one
      ring_adapter_table.hpp for all the packages of the run (imports included):
      the nucleus's ring adapters.
  kabi-gen [-I DIR]... --check FILE.kabi...
      Check only; print diagnostics.
  kabi-gen [-I DIR]... --graph OUT.dot FILE.kabi...
      Write a Graphviz graph of modules and the vtables they provide and require.
  kabi-gen [-I DIR]... [--old-include DIR]... --compat OLD.kabi NEW.kabi
      Classify every change from OLD to NEW as compatible, needs-review or incompatible.
      Imports of OLD resolve next to OLD and in --old-include dirs; imports of NEW next
      to NEW and in -I dirs.
Exit status: 0 success, 1 errors in the input (or an incompatible change), 2 bad usage.
)";

constexpr const char* kRingTableName = "ring_adapter_table";

enum class Mode { Generate, Check, Graph, Compat };

struct Options {
    Mode mode = Mode::Generate;
    std::vector<std::string> include_directories;
    std::vector<std::string> old_include_directories;  // --compat: where OLD's imports are
    std::string out_directory;
    std::string graph_path;
    std::set<std::string> emit = {"base", "cpp", "c", "ring", "manifest", "state"};
    std::vector<std::string> inputs;
};

int usage_error(const std::string& message) {
    std::cerr << "kabi-gen: " << message << "\n" << usage_text;
    return 2;
}

// Writes only when the content changed, so unchanged headers do not trigger rebuilds.
bool write_if_changed(const std::filesystem::path& path, const std::string& content) {
    {
        std::ifstream existing(path, std::ios::binary);
        if (existing) {
            std::ostringstream buffer;
            buffer << existing.rdbuf();
            if (buffer.str() == content) return true;
        }
    }
    std::error_code error;
    std::filesystem::create_directories(path.parent_path(), error);
    std::ofstream stream(path, std::ios::binary | std::ios::trunc);
    stream << content;
    if (!stream) {
        std::cerr << "kabi-gen: cannot write '" << path.string() << "'\n";
        return false;
    }
    return true;
}

bool load_all(kabi::Workspace& workspace, const std::vector<std::string>& inputs,
              std::vector<const kabi::File*>& files) {
    bool ok = true;
    for (const std::string& input : inputs) {
        const kabi::File* file = workspace.load(input);
        if (!file)
            ok = false;
        else
            files.push_back(file);
    }
    return ok;
}

int report(const kabi::DiagnosticSink& sink) {
    std::cerr << sink.render_all();
    if (sink.has_errors()) {
        std::cerr << "kabi-gen: " << sink.error_count() << " error(s)\n";
        return 1;
    }
    return 0;
}

int run_compat(const Options& options) {
    if (options.inputs.size() != 2) return usage_error("--compat takes exactly OLD and NEW");
    kabi::DiagnosticSink old_sink, new_sink;
    kabi::Workspace old_workspace(old_sink, options.old_include_directories);
    kabi::Workspace new_workspace(new_sink, options.include_directories);
    const kabi::File* old_file = old_workspace.load(options.inputs[0]);
    const kabi::File* new_file = new_workspace.load(options.inputs[1]);
    int old_status = report(old_sink);
    int new_status = report(new_sink);
    if (!old_file || !new_file || old_status || new_status) return 1;
    std::vector<kabi::CompatFinding> findings = kabi::compare_packages(*old_file, *new_file);
    size_t incompatible = 0, review = 0;
    for (const kabi::CompatFinding& finding : findings) {
        std::cout << kabi::render_finding(finding);
        if (finding.compatibility == kabi::Compatibility::Incompatible) ++incompatible;
        if (finding.compatibility == kabi::Compatibility::NeedsReview) ++review;
    }
    std::cout << "kabi-gen: " << new_file->package << ": " << findings.size() << " change(s), "
              << review << " need review, " << incompatible << " incompatible\n";
    return incompatible ? 1 : 0;
}

int run(const Options& options) {
    if (options.mode == Mode::Compat) return run_compat(options);
    if (options.inputs.empty() &&
        !(options.mode == Mode::Generate && options.emit == std::set<std::string>{"base"})) {
        return usage_error("no input files");
    }
    kabi::DiagnosticSink sink;
    kabi::Workspace workspace(sink, options.include_directories);
    std::vector<const kabi::File*> files;
    load_all(workspace, options.inputs, files);
    int status = report(sink);
    if (status != 0) return status;
    if (options.mode == Mode::Check) return 0;
    if (options.mode == Mode::Graph) {
        return write_if_changed(options.graph_path, kabi::emit_graph(workspace.files())) ? 0 : 1;
    }
    if (options.out_directory.empty()) return usage_error("--out-dir DIR is required to generate");
    std::filesystem::path root = std::filesystem::path(options.out_directory) / "umka" / "kabi";
    bool ok = true;
    auto wants = [&](const char* kind) { return options.emit.count(kind) != 0; };
    if (wants("base")) ok = write_if_changed(root / "kabi_base.h", kabi::emit_base_header()) && ok;
    for (const kabi::File* file : files) {
        const std::string& package = file->package;
        if (wants("cpp"))
            ok = write_if_changed(root / (package + ".hpp"), kabi::emit_cpp_header(*file)) && ok;
        if (wants("c"))
            ok = write_if_changed(root / (package + ".h"), kabi::emit_c_header(*file)) && ok;
        if (wants("ring"))
            ok = write_if_changed(root / (package + "_ring.hpp"), kabi::emit_ring_header(*file)) &&
                 ok;
        if (wants("manifest")) {
            ok = write_if_changed(root / (package + "_manifest.hpp"),
                                  kabi::emit_manifest_header(*file)) &&
                 ok;
        }
        if (wants("state"))
            ok =
                write_if_changed(root / (package + "_state.hpp"), kabi::emit_state_header(*file)) &&
                ok;
    }
    if (wants("ring-table")) {
        // A package of that name would write its C++ header over the table.
        if (workspace.find_package(kRingTableName) != nullptr) {
            std::cerr << "kabi-gen: a package named '" << kRingTableName
                      << "' collides with the ring adapter table's file name\n";
            return 1;
        }
        ok = write_if_changed(root / (std::string(kRingTableName) + ".hpp"),
                              kabi::emit_ring_adapter_table(workspace.files())) &&
             ok;
    }
    if (wants("layout-probe")) {
        ok = write_if_changed(std::filesystem::path(options.out_directory) / "layout_probe.c",
                              kabi::emit_layout_probe_c(files)) &&
             ok;
        ok = write_if_changed(std::filesystem::path(options.out_directory) / "layout_probe.cpp",
                              kabi::emit_layout_probe_cpp(files)) &&
             ok;
    }
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    std::vector<std::string> arguments(argv + 1, argv + argc);
    for (size_t index = 0; index < arguments.size(); ++index) {
        const std::string& argument = arguments[index];
        auto value = [&](const char* flag) -> const std::string* {
            if (index + 1 >= arguments.size()) return nullptr;
            (void)flag;
            return &arguments[++index];
        };
        if (argument == "-h" || argument == "--help") {
            std::cout << usage_text;
            return 0;
        } else if (argument == "-I") {
            const std::string* directory = value("-I");
            if (!directory) return usage_error("-I needs a directory");
            options.include_directories.push_back(*directory);
        } else if (argument.rfind("-I", 0) == 0 && argument.size() > 2) {
            options.include_directories.push_back(argument.substr(2));
        } else if (argument == "--old-include") {
            const std::string* directory = value("--old-include");
            if (!directory) return usage_error("--old-include needs a directory");
            options.old_include_directories.push_back(*directory);
        } else if (argument == "--out-dir") {
            const std::string* directory = value("--out-dir");
            if (!directory) return usage_error("--out-dir needs a directory");
            options.out_directory = *directory;
        } else if (argument == "--emit") {
            const std::string* kinds = value("--emit");
            if (!kinds) return usage_error("--emit needs a list");
            options.emit.clear();
            std::stringstream stream(*kinds);
            std::string kind;
            const std::set<std::string> known = {
                "base", "cpp", "c", "ring", "manifest", "state", "layout-probe", "ring-table"};
            while (std::getline(stream, kind, ',')) {
                if (!known.count(kind)) return usage_error("unknown --emit kind '" + kind + "'");
                options.emit.insert(kind);
            }
        } else if (argument == "--check") {
            options.mode = Mode::Check;
        } else if (argument == "--graph") {
            const std::string* path = value("--graph");
            if (!path) return usage_error("--graph needs an output file");
            options.mode = Mode::Graph;
            options.graph_path = *path;
        } else if (argument == "--compat") {
            options.mode = Mode::Compat;
        } else if (!argument.empty() && argument[0] == '-') {
            return usage_error("unknown option '" + argument + "'");
        } else {
            options.inputs.push_back(argument);
        }
    }
    return run(options);
}
