#include "workspace.h"

#include <filesystem>

#include "initramfs/tools/file_io.h"
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
    return load_resolved(path, nullptr, 0);
}

void Workspace::add_virtual_file(const std::string& path, std::string_view text) {
    virtual_files_[path] = std::string(text);
}

const File* Workspace::load_text(const std::string& name, std::string_view text) {
    add_virtual_file(name, text);
    return load(name);
}

const File* Workspace::find_package(const std::string& package) const {
    auto found = by_package_.find(package);
    return found == by_package_.end() ? nullptr : found->second;
}

bool Workspace::is_source(const std::string& path) const {
    if (virtual_files_.count(path)) return true;
    std::error_code error;
    return std::filesystem::is_regular_file(path, error);
}

std::string Workspace::find_import(const File& importer, const Import& import) const {
    std::vector<std::string> directories;
    directories.push_back(std::filesystem::path(importer.path).parent_path().string());
    for (const std::string& directory : include_directories_) directories.push_back(directory);
    for (const std::string& directory : directories) {
        std::string candidate = (std::filesystem::path(directory.empty() ? "." : directory) /
                                 (import.package + ".kabi"))
                                    .string();
        if (is_source(candidate)) return candidate;
    }
    return {};
}

std::optional<std::string> Workspace::read_source(const std::string& path,
                                                  const SourceLocation& refusal_location) {
    if (files_read_ >= kMaximumWorkspaceFiles) {
        sink_.error("workspace-too-large", refusal_location,
                    "reading '" + path + "' would exceed the limit of " +
                        std::to_string(kMaximumWorkspaceFiles) + " files per run",
                    "check these imports, or run kabi-gen on fewer files at a time");
        return std::nullopt;
    }
    std::string text;
    if (auto found = virtual_files_.find(path); found != virtual_files_.end()) {
        if (found->second.size() > kMaximumFileBytes) {
            sink_.error("cannot-read", refusal_location,
                        path + ": larger than the limit of " + std::to_string(kMaximumFileBytes) +
                            " bytes");
            return std::nullopt;
        }
        text = found->second;
    } else {
        std::string reason;
        auto bytes = umka::tools::read_file(path, kMaximumFileBytes, reason);
        if (!bytes) {
            sink_.error("cannot-read", refusal_location, reason);
            return std::nullopt;
        }
        text.assign(bytes->begin(), bytes->end());
    }
    if (bytes_read_ + text.size() > kMaximumWorkspaceBytes) {
        sink_.error("workspace-too-large", refusal_location,
                    "reading '" + path + "' (" + std::to_string(text.size()) +
                        " bytes) would exceed the limit of " +
                        std::to_string(kMaximumWorkspaceBytes) + " bytes of source per run",
                    "check these imports, or run kabi-gen on fewer files at a time");
        return std::nullopt;
    }
    ++files_read_;
    bytes_read_ += text.size();
    return text;
}

File* Workspace::load_resolved(const std::string& path, const SourceLocation* imported_from,
                               size_t depth) {
    std::string key = canonical(path);
    if (auto found = by_path_.find(key); found != by_path_.end()) return found->second;
    if (in_progress_.count(key)) {
        sink_.error(
            "import-cycle", imported_from ? *imported_from : SourceLocation{path, 1, 1, 0},
            "importing '" + path + "' forms a cycle",
            "packages form a tree: move the shared declarations into a package both import");
        return nullptr;
    }
    std::optional<std::string> text =
        read_source(path, imported_from ? *imported_from : SourceLocation{path, 0, 0, 0});
    if (!text) return nullptr;

    in_progress_.insert(key);
    std::unique_ptr<File> file = parse_file(path, *text, sink_);
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
        if (depth + 1 > kMaximumImportDepth) {
            sink_.error("import-too-deep", import.location,
                        "importing '" + import.package + "' nests imports " +
                            std::to_string(depth + 1) + " deep; the limit is " +
                            std::to_string(kMaximumImportDepth),
                        "flatten the import chain: import the packages you use directly");
            continue;
        }
        import.file = load_resolved(found, &import.location, depth + 1);
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

}  // namespace kabi
