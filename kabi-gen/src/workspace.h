// Loads .kabi files and their imports, and runs semantic analysis on each exactly once.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ast.h"
#include "diagnostics.h"

namespace kabi {

class Workspace {
public:
    Workspace(DiagnosticSink& sink, std::vector<std::string> include_directories)
        : sink_(sink), include_directories_(std::move(include_directories)) {}

    // Loads, parses and checks `path` and everything it imports. Returns nullptr when the
    // file cannot be read or has no package line; other errors are in the sink.
    const File* load(const std::string& path);

    // Parses and checks text that is not on disk (fuzzer, tests). Imports are not followed.
    const File* load_text(const std::string& name, std::string_view text);

    const File* find_package(const std::string& package) const;
    // Every loaded file in dependency order (imports before importers).
    const std::vector<const File*>& files() const { return ordered_; }

private:
    File* load_resolved(const std::string& path, const SourceLocation* imported_from);
    std::string find_import(const File& importer, const Import& import) const;

    DiagnosticSink& sink_;
    std::vector<std::string> include_directories_;
    std::vector<std::unique_ptr<File>> storage_;
    std::map<std::string, File*> by_path_;
    std::map<std::string, File*> by_package_;
    std::set<std::string> in_progress_;  // canonical paths being loaded: detects import cycles
    std::vector<const File*> ordered_;
};

}  // namespace kabi
