#include "workspace.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "parser.h"
#include "semantic.h"

namespace kabi {

namespace {
std::string canonical(const std::string& path) {
    std::error_code error;
    std::filesystem::path result = std::filesystem::weakly_canonical(path, error);
    return error ? path : result.string();
}
}  // namespace

const File* Workspace::load(const std::string& path) {
    return load_resolved(path, nullptr);
}

const File* Workspace::find_package(const std::string& package) const {
    auto found = by_package_.find(package);
    return found == by_package_.end() ? nullptr : found->second;
}

std::string Workspace::find_import(const File& importer, const Import& import) const {
    std::vector<std::string> directories;
    directories.push_back(std::filesystem::path(importer.path).parent_path().string());
    for (const std::string& directory : include_directories_) directories.push_back(directory);
    for (const std::string& directory : directories) {
        std::filesystem::path candidate =
            std::filesystem::path(directory.empty() ? "." : directory) / (import.package + ".kabi");
        std::error_code error;
        if (std::filesystem::is_regular_file(candidate, error)) return candidate.string();
    }
    return {};
}

File* Workspace::load_resolved(const std::string& path, const SourceLocation* imported_from) {
    std::string key = canonical(path);
    if (auto found = by_path_.find(key); found != by_path_.end()) return found->second;
    if (in_progress_.count(key)) {
        sink_.error(
            "import-cycle", imported_from ? *imported_from : SourceLocation{path, 1, 1, 0},
            "importing '" + path + "' forms a cycle",
            "packages form a tree: move the shared declarations into a package both import");
        return nullptr;
    }
    std::ifstream stream(path, std::ios::binary);
    if (!stream) {
        sink_.error("cannot-read", imported_from ? *imported_from : SourceLocation{path, 0, 0, 0},
                    "cannot read '" + path + "'");
        return nullptr;
    }
    std::ostringstream buffer;
    buffer << stream.rdbuf();
    std::string text = buffer.str();

    in_progress_.insert(key);
    std::unique_ptr<File> file = parse_file(path, text, sink_);
    if (file->package.empty()) {
        in_progress_.erase(key);
        return nullptr;
    }
    for (Import& import : file->imports) {
        if (import.package == file->package) continue;  // reported as self-import
        std::string found = find_import(*file, import);
        if (found.empty()) {
            std::string searched = std::filesystem::path(file->path).parent_path().string();
            for (const std::string& directory : include_directories_) searched += ", " + directory;
            sink_.error("import-not-found", import.location,
                        "cannot find '" + import.package +
                            ".kabi' (searched: " + (searched.empty() ? "." : searched) + ")",
                        "add its directory with -I DIR, or check the package name");
            continue;
        }
        import.file = load_resolved(found, &import.location);
    }
    in_progress_.erase(key);

    File* raw = file.get();
    if (auto existing = by_package_.find(raw->package); existing != by_package_.end()) {
        sink_.error(
            "duplicate-package", raw->package_location,
            "package '" + raw->package + "' is also declared in '" + existing->second->path + "'",
            "give each file its own package name");
        return nullptr;
    }
    check_file(
        *raw, [this](const std::string& package) { return find_package(package); }, sink_);
    storage_.push_back(std::move(file));
    by_path_[key] = raw;
    by_package_[raw->package] = raw;
    ordered_.push_back(raw);
    return raw;
}

const File* Workspace::load_text(const std::string& name, std::string_view text) {
    std::unique_ptr<File> file = parse_file(name, text, sink_);
    if (file->package.empty()) return nullptr;
    File* raw = file.get();
    check_file(
        *raw, [this](const std::string& package) { return find_package(package); }, sink_);
    storage_.push_back(std::move(file));
    ordered_.push_back(raw);
    return raw;
}

}  // namespace kabi
