// umka-bundle: boot bundles (cpio "newc" archives of a boot manifest and signed modules) on
// the host, the one writer of bundles in the tree (docs/module-signing.md, "Bundles").
//
//   umka-bundle create --output FILE [--manifest MANIFEST] [NAME=]PATH...
//   umka-bundle list FILE
//   umka-bundle extract FILE --dir DIR
//   umka-bundle verify FILE --public KEY
//
// Reading goes through the nucleus's own cpio parser (nucleus/bundle/cpio_archive.cpp), so
// a bundle this tool accepts is one the nucleus reads the same way; modules are described
// with the loader's validate_module and checked with the nucleus's signature verifier.
// Exit status: 0 success, 1 failure (each message names the file, entry and reason), 2
// usage error.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "initramfs/tools/command_line.h"
#include "initramfs/tools/file_io.h"
#include "nucleus/bundle/cpio_archive.h"
#include "nucleus/crypto/module_signature.h"
#include "nucleus/module/elf_module.h"

namespace {

using Bytes = std::vector<uint8_t>;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Bounds on what a bundle may hold. The nucleus boots a handful of modules; these leave
// ample room while keeping a garbled or hostile archive from making the tool allocate or
// write without end.
constexpr size_t kMaximumEntries = 1024;
constexpr size_t kMaximumNameLength = 255;
// A newc header stores sizes in 8 hex digits.
constexpr uint64_t kMaximumEntrySize = 0xffffffffu;
constexpr uint64_t kMaximumArchiveSize = uint64_t(1) << 31;

constexpr const char* kManifestEntry = "manifest.txt";
constexpr const char* kModuleSuffix = ".umod";
constexpr uint32_t kRegularFileMode = 0100644;

int usage(const std::string& problem) {
    std::fprintf(stderr,
                 "umka-bundle: %s\n"
                 "usage: umka-bundle create --output FILE [--manifest MANIFEST] [NAME=]PATH...\n"
                 "       umka-bundle list FILE\n"
                 "       umka-bundle extract FILE --dir DIR\n"
                 "       umka-bundle verify FILE --public KEY\n",
                 problem.c_str());
    return kExitUsage;
}

int failure(const std::string& message) {
    std::fprintf(stderr, "umka-bundle: %s\n", message.c_str());
    return kExitFailure;
}

using umka::tools::Arguments;

// An entry name is one path component of printable characters, or a path under root/ (the
// root file system's tree: boot_files.BootFiles) whose every component is one: extraction
// then writes only inside the chosen directory ("../x", "/etc/x", "a/b" and "root/../x" are
// refused), and the nucleus looks modules up by exactly this name. Empty when acceptable,
// else why not.
std::string component_problem(const std::string& name);

std::string name_problem(const std::string& name) {
    static const std::string kRoot = "root/";
    if (name.size() > kMaximumNameLength) {
        return "the name is " + std::to_string(name.size()) + " characters, more than " +
               std::to_string(kMaximumNameLength);
    }
    if (name.compare(0, kRoot.size(), kRoot) != 0) return component_problem(name);
    for (size_t start = kRoot.size();;) {
        size_t slash = name.find('/', start);
        std::string problem = component_problem(name.substr(start, slash - start));
        if (!problem.empty()) return "a component of the path: " + problem;
        if (slash == std::string::npos) return "";
        start = slash + 1;
    }
}

std::string component_problem(const std::string& name) {
    if (name.empty()) return "the name is empty";
    if (name.size() > kMaximumNameLength) {
        return "the name is " + std::to_string(name.size()) + " characters, more than " +
               std::to_string(kMaximumNameLength);
    }
    if (name == "." || name == "..") return "'" + name + "' names a directory, not a file";
    if (name == "TRAILER!!!") return "TRAILER!!! is the archive's end marker";
    for (char character : name) {
        if (character == '/') return "it contains '/' (entries are single file names)";
        if (static_cast<unsigned char>(character) < 0x20 || character == 0x7f) {
            return "it contains a control character";
        }
    }
    return "";
}

// --- Writing -----------------------------------------------------------------------------

void append_field(Bytes& out, uint32_t value) {
    char text[9];
    std::snprintf(text, sizeof(text), "%08X", value);
    out.insert(out.end(), text, text + 8);
}

void pad4(Bytes& out) {
    while (out.size() % 4 != 0) out.push_back(0);
}

// One newc record. Fields are fixed (owner 0, time 0, inode = position) so the same inputs
// always give the same bytes: bundles are reproducible build outputs.
void append_entry(Bytes& out, const std::string& name, const Bytes& data, uint32_t mode,
                  uint32_t inode) {
    static constexpr char kMagic[] = "070701";
    out.insert(out.end(), kMagic, kMagic + 6);
    uint32_t fields[13] = {inode,
                           mode,
                           0,
                           0,
                           1,
                           0,
                           static_cast<uint32_t>(data.size()),
                           0,
                           0,
                           0,
                           0,
                           static_cast<uint32_t>(name.size() + 1),
                           0};
    for (uint32_t field : fields) append_field(out, field);
    out.insert(out.end(), name.begin(), name.end());
    out.push_back(0);
    pad4(out);
    out.insert(out.end(), data.begin(), data.end());
    pad4(out);
}

int command_create(const Arguments& arguments) {
    if (!arguments.options.count("--output")) return usage("create needs --output FILE");
    std::vector<std::pair<std::string, std::string>> inputs;  // entry name, file path
    if (arguments.options.count("--manifest")) {
        inputs.emplace_back(kManifestEntry, arguments.options.at("--manifest"));
    }
    for (const std::string& item : arguments.positional) {
        size_t separator = item.find('=');
        if (separator == std::string::npos) {
            size_t slash = item.rfind('/');
            inputs.emplace_back(slash == std::string::npos ? item : item.substr(slash + 1), item);
        } else {
            inputs.emplace_back(item.substr(0, separator), item.substr(separator + 1));
        }
    }
    if (inputs.empty()) return usage("create needs --manifest or at least one [NAME=]PATH");
    if (inputs.size() > kMaximumEntries) {
        return failure(std::to_string(inputs.size()) + " entries: a bundle holds at most " +
                       std::to_string(kMaximumEntries));
    }
    // A root/ file may not also be a directory of another (root/etc and root/etc/motd):
    // the root file system could not hold both.
    for (const auto& [name, path] : inputs) {
        for (const auto& [other, other_path] : inputs) {
            if (other.size() > name.size() && other.compare(0, name.size(), name) == 0 &&
                other[name.size()] == '/') {
                return failure("entry '" + name + "' (" + path + ") is a file, but '" + other +
                               "' needs it to be a directory");
            }
        }
    }
    std::set<std::string> names;
    Bytes archive;
    uint32_t inode = 1;
    for (const auto& [name, path] : inputs) {
        std::string problem = name_problem(name);
        if (!problem.empty()) return failure("entry '" + name + "' (" + path + "): " + problem);
        if (!names.insert(name).second) {
            return failure("entry '" + name + "' (" + path + ") is given twice");
        }
        std::string error;
        auto data = umka::tools::read_file(path, kMaximumArchiveSize, error);
        if (!data) return failure(error);
        if (data->size() > kMaximumEntrySize ||
            archive.size() + data->size() > kMaximumArchiveSize) {
            return failure(path + ": " + std::to_string(data->size()) +
                           " bytes do not fit a bundle (at most " +
                           std::to_string(kMaximumArchiveSize) + " bytes in all)");
        }
        append_entry(archive, name, *data, kRegularFileMode, inode++);
    }
    append_entry(archive, "TRAILER!!!", {}, 0, 0);
    std::string error;
    if (!umka::tools::write_file(arguments.options.at("--output"), archive, 0644,
                                 umka::tools::Overwrite::Replace, error)) {
        return failure(error);
    }
    return 0;
}

// --- Reading -----------------------------------------------------------------------------

struct Reading {
    std::vector<umka::bundle::Entry> entries;
    size_t seen = 0;  // entries in the archive, including those past the limit
};

void collect(void* context, const umka::bundle::Entry& entry) {
    Reading& reading = *static_cast<Reading*>(context);
    if (++reading.seen <= kMaximumEntries) reading.entries.push_back(entry);
}

// Reads and parses the archive with the nucleus's parser; `file` keeps the bytes the
// entries point into. False after printing why not.
bool read_bundle(const std::string& path, Bytes& file, Reading& reading) {
    std::string error;
    auto contents = umka::tools::read_file(path, kMaximumArchiveSize, error);
    if (!contents) {
        failure(error);
        return false;
    }
    file = std::move(*contents);
    umka::bundle::ArchiveError archive_error{};
    if (umka::bundle::for_each_entry(file.data(), file.size(), collect, &reading, archive_error)
            .is_error()) {
        failure(path + ": corrupt at byte " + std::to_string(archive_error.offset) + ": " +
                archive_error.reason);
        return false;
    }
    if (reading.seen > kMaximumEntries) {
        failure(path + ": " + std::to_string(reading.seen) + " entries, more than the " +
                std::to_string(kMaximumEntries) + " a bundle may hold");
        return false;
    }
    return true;
}

std::string entry_name(const umka::bundle::Entry& entry) {
    return std::string(entry.name, entry.name_length);
}

bool is_module(const std::string& name) {
    size_t suffix = std::strlen(kModuleSuffix);
    return name.size() > suffix && name.compare(name.size() - suffix, suffix, kModuleSuffix) == 0;
}

// "module NAME version N, signed" or why the entry is not a module the loader would take.
std::string describe_module(const umka::bundle::Entry& entry) {
    const uint8_t* image = entry.data;
    size_t image_size = entry.size;
    std::string signature = "unsigned";
    if (umka::crypto::has_module_signature_trailer(entry.data, entry.size)) {
        umka::crypto::SignedModuleView view;
        const char* reason = nullptr;
        if (umka::crypto::split_signed_module(entry.data, entry.size, view, &reason).is_error()) {
            return std::string("bad signature trailer: ") + reason;
        }
        image = view.image;
        image_size = view.image_size;
        signature = "signed (not verified here: use umka-bundle verify)";
    }
    umka::modules::ModuleLayout layout;
    umka::modules::Diagnostic diagnostic;
    if (umka::modules::validate_module(image, image_size, layout, diagnostic).is_error()) {
        return std::string("not a loadable module: ") + diagnostic.text() + ", " + signature;
    }
    auto manifest = umka::modules::ManifestView::parse(image + layout.manifest_file_offset,
                                                       layout.manifest_size, diagnostic);
    if (manifest.is_error()) return std::string("bad .kabi_manifest: ") + diagnostic.text();
    return std::string("module ") + manifest.value().name() + " version " +
           std::to_string(manifest.value().module_version()) + ", " + signature;
}

int command_list(const Arguments& arguments) {
    if (!arguments.options.empty() || arguments.positional.size() != 1) {
        return usage("list needs one bundle FILE");
    }
    Bytes file;
    Reading reading;
    if (!read_bundle(arguments.positional[0], file, reading)) return kExitFailure;
    for (const umka::bundle::Entry& entry : reading.entries) {
        std::string name = entry_name(entry);
        std::string problem = name_problem(name);
        std::printf("%-32s %10zu bytes", problem.empty() ? name.c_str() : "(unsafe name)",
                    entry.size);
        if (!problem.empty()) std::printf("  unsafe name: %s", problem.c_str());
        if (is_module(name)) std::printf("  %s", describe_module(entry).c_str());
        std::printf("\n");
    }
    std::printf("%zu entries\n", reading.entries.size());
    return 0;
}

int command_extract(const Arguments& arguments) {
    if (!arguments.options.count("--dir") || arguments.positional.size() != 1) {
        return usage("extract needs one bundle FILE and --dir DIR");
    }
    const std::string& path = arguments.positional[0];
    const std::string& directory = arguments.options.at("--dir");
    Bytes file;
    Reading reading;
    if (!read_bundle(path, file, reading)) return kExitFailure;
    // Every name is checked before anything is written, so a refused bundle leaves no
    // partial extraction behind.
    std::set<std::string> names;
    for (const umka::bundle::Entry& entry : reading.entries) {
        std::string name = entry_name(entry);
        std::string problem = name_problem(name);
        if (!problem.empty()) {
            return failure(path + ": entry '" + name + "' refused: " + problem);
        }
        if (!names.insert(name).second) {
            return failure(path + ": entry '" + name + "' appears twice");
        }
    }
    if (mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) {
        return failure("cannot create directory " + directory + ": " + std::strerror(errno));
    }
    for (const umka::bundle::Entry& entry : reading.entries) {
        std::string target = directory + "/" + entry_name(entry);
        // A root/ path's directories (every component was checked above).
        for (size_t slash = directory.size() + 1;
             (slash = target.find('/', slash)) != std::string::npos; ++slash) {
            std::string parent = target.substr(0, slash);
            if (mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
                return failure("cannot create directory " + parent + ": " + std::strerror(errno));
            }
        }
        std::string error;
        if (!umka::tools::write_file(target, Bytes(entry.data, entry.data + entry.size), 0644,
                                     umka::tools::Overwrite::Refuse, error)) {
            return failure(error);
        }
        std::printf("%s\n", target.c_str());
    }
    return 0;
}

int command_verify(const Arguments& arguments) {
    if (!arguments.options.count("--public") || arguments.positional.size() != 1) {
        return usage("verify needs one bundle FILE and --public KEY");
    }
    const std::string& path = arguments.positional[0];
    const std::string& key_path = arguments.options.at("--public");
    std::string error;
    auto key = umka::tools::read_file(key_path, umka::tools::kKeyFileSizeLimit, error);
    if (!key) return failure(error);
    if (key->size() != umka::crypto::kEd25519PublicKeySize) {
        return failure(key_path + " holds " + std::to_string(key->size()) +
                       " bytes, not a 32-byte Ed25519 public key (umka-sign public)");
    }
    Bytes file;
    Reading reading;
    if (!read_bundle(path, file, reading)) return kExitFailure;
    size_t modules = 0;
    std::vector<std::string> bad;
    for (const umka::bundle::Entry& entry : reading.entries) {
        std::string name = entry_name(entry);
        if (!is_module(name)) continue;
        ++modules;
        umka::crypto::SignedModuleView view;
        const char* reason = nullptr;
        umka::Status status =
            umka::crypto::split_signed_module(entry.data, entry.size, view, &reason);
        if (status.is_ok()) {
            status = umka::crypto::verify_module_signature(view, key->data(), &reason);
        }
        if (status.is_error()) {
            std::printf("%s: %s: BAD: %s\n", path.c_str(), name.c_str(), reason);
            bad.push_back(name);
        } else {
            std::printf("%s: %s: signature OK\n", path.c_str(), name.c_str());
        }
    }
    if (!bad.empty()) {
        std::string list;
        for (const std::string& name : bad) list += (list.empty() ? "" : ", ") + name;
        std::fflush(stdout);
        return failure(path + ": " + std::to_string(bad.size()) + " of " + std::to_string(modules) +
                       " modules fail verification with " + key_path + ": " + list);
    }
    std::printf("%s: all %zu modules verify with %s\n", path.c_str(), modules, key_path.c_str());
    return 0;
}

}  // namespace

int main(int count, char** values) {
    if (count < 2) return usage("no command");
    std::string command = values[1];
    struct Command {
        const char* name;
        std::vector<std::string> options;
        int (*run)(const Arguments&);
    };
    const Command commands[] = {
        {"create", {"--output", "--manifest"}, command_create},
        {"list", {}, command_list},
        {"extract", {"--dir"}, command_extract},
        {"verify", {"--public"}, command_verify},
    };
    for (const Command& entry : commands) {
        if (command != entry.name) continue;
        Arguments arguments;
        std::string problem;
        if (!umka::tools::parse_arguments(count, values, entry.options, {}, arguments, problem)) {
            return usage(problem);
        }
        int status = entry.run(arguments);
        std::fflush(stdout);
        return status;
    }
    return usage("unknown command '" + command + "'");
}
