// Loads .kabi files and their imports, and runs semantic analysis on each exactly once.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ast.h"
#include "diagnostics.h"

namespace kabi {

// Input limits (docs/kabi-idl.md §14): .kabi files are untrusted input, so every amount a
// run reads is bounded and exceeding a bound is an error naming the file and the limit.
// The largest .kabi file in kabi-idl/ is under 20 KiB; these leave two orders of margin.
inline constexpr size_t kMaximumFileBytes = size_t(1) << 20;        // one .kabi file
inline constexpr size_t kMaximumWorkspaceBytes = size_t(16) << 20;  // all files of one run
inline constexpr size_t kMaximumWorkspaceFiles = 1024;              // files of one run
// Imports nest at most this deep (a file given on the command line is depth 0). Loading
// recurses once per level, so this also bounds the stack.
inline constexpr size_t kMaximumImportDepth = 64;

class Workspace {
public:
    Workspace(DiagnosticSink& sink, std::vector<std::string> include_directories)
        : sink_(sink), include_directories_(std::move(include_directories)) {}

    // Loads, parses and checks `path` and everything it imports. Returns nullptr when the
    // file cannot be read or has no package line; other errors are in the sink.
    const File* load(const std::string& path);

    // Serves `text` as the file `path` (fuzzers, tests): load() and the import search see
    // it before the disk, under the same limits.
    void add_virtual_file(const std::string& path, std::string_view text);

    // add_virtual_file, then load.
    const File* load_text(const std::string& name, std::string_view text);

    const File* find_package(const std::string& package) const;
    // Every loaded file in dependency order (imports before importers).
    const std::vector<const File*>& files() const { return ordered_; }

private:
    File* load_resolved(const std::string& path, const SourceLocation* imported_from, size_t depth);
    std::optional<std::string> read_source(const std::string& path,
                                           const SourceLocation& refusal_location);
    bool is_source(const std::string& path) const;
    std::string find_import(const File& importer, const Import& import) const;

    DiagnosticSink& sink_;
    std::vector<std::string> include_directories_;
    std::map<std::string, std::string> virtual_files_;  // path as given -> text
    std::vector<std::unique_ptr<File>> storage_;
    std::map<std::string, File*> by_path_;
    std::map<std::string, File*> by_package_;
    std::set<std::string> in_progress_;  // canonical paths being loaded: detects import cycles
    std::vector<const File*> ordered_;
    size_t files_read_ = 0;
    size_t bytes_read_ = 0;
};

}  // namespace kabi
