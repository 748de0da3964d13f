#include "initramfs/tools/module_rules.h"

#include <cxxabi.h>
#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include "initramfs/tools/manifest_rules.h"
#include "initramfs/tools/relocation_names.h"

namespace umka::tools {
namespace {

// Relocated data that becomes read-only once the loader has applied R_X86_64_RELATIVE
// relocations (vtables, GOT entries, the dynamic section): writable in the file, but not
// state. Everything else writable and allocated is state the module must not keep.
const std::set<std::string> kRelocatedReadOnlySections = {".data.rel.ro", ".data.rel.ro.local",
                                                          ".got", ".dynamic"};

// Sections that exist only to run code at load or unload time, which the nucleus never does.
const std::set<std::string> kInitializerSections = {".init_array", ".fini_array", ".preinit_array",
                                                    ".ctors", ".dtors"};

std::string hex(uint64_t value) {
    char text[24];
    std::snprintf(text, sizeof(text), "0x%llx", static_cast<unsigned long long>(value));
    return text;
}

std::string demangle(const char* name) {
    int status = 0;
    char* readable = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (status != 0 || readable == nullptr) return name;
    std::string result = readable;
    std::free(readable);
    return result;
}

// "`counter`", or "`ns::table` (_ZN2ns5tableE)" when demangling changed the name.
std::string quoted_symbol(const char* name) {
    std::string readable = demangle(name);
    if (readable == name) return "`" + readable + "`";
    return "`" + readable + "` (" + name + ")";
}

struct Section {
    Elf_Scn* handle;
    GElf_Shdr header;
    std::string name;
};

class ModuleChecker {
public:
    ModuleChecker(Elf* elf, ModuleFacts& facts) : elf_(elf), facts_(facts) {}

    std::vector<Violation> run() {
        if (!check_header()) return std::move(violations_);
        if (!load_sections()) return std::move(violations_);
        check_segments();
        check_dynamic();
        check_symbols();
        check_relocations();
        check_sections();
        check_manifest_section();
        return std::move(violations_);
    }

private:
    void report(const char* rule, std::string detail) {
        violations_.push_back({rule, std::move(detail)});
    }

    std::string elf_error() { return elf_errmsg(-1); }

    // Class, byte order, machine and type. Returns false when the rest of the file cannot
    // be interpreted (not ELF, wrong class or byte order, unreadable header).
    bool check_header() {
        if (elf_kind(elf_) != ELF_K_ELF) {
            report(rule::kElfHeader, "not an ELF file (no \\x7fELF magic)");
            return false;
        }
        size_t ident_size = 0;
        const char* ident = elf_getident(elf_, &ident_size);
        if (ident == nullptr || ident_size < EI_NIDENT) {
            report(rule::kElfHeader, "truncated ELF identification: " + elf_error());
            return false;
        }
        bool usable = true;
        if (ident[EI_CLASS] != ELFCLASS64) {
            report(rule::kElfHeader, std::string("ELF class is ") +
                                         (ident[EI_CLASS] == ELFCLASS32 ? "32-bit" : "invalid") +
                                         "; modules are ELF64");
            usable = false;
        }
        if (ident[EI_DATA] != ELFDATA2LSB) {
            report(rule::kElfHeader,
                   std::string("byte order is ") +
                       (ident[EI_DATA] == ELFDATA2MSB ? "big-endian" : "invalid") +
                       "; modules are little-endian");
            usable = false;
        }
        if (!usable) return false;
        if (gelf_getehdr(elf_, &header_) == nullptr) {
            report(rule::kElfHeader, "truncated or corrupt ELF header: " + elf_error());
            return false;
        }
        if (!check_table_bounds("section header table", header_.e_shoff, header_.e_shnum,
                                header_.e_shentsize, sizeof(Elf64_Shdr)) ||
            !check_table_bounds("program header table", header_.e_phoff, header_.e_phnum,
                                header_.e_phentsize, sizeof(Elf64_Phdr))) {
            return false;
        }
        if (header_.e_machine != EM_X86_64) {
            report(rule::kElfHeader, "machine is " + std::to_string(header_.e_machine) +
                                         ", not x86-64 (EM_X86_64 = 62)");
        }
        if (header_.e_type != ET_DYN) {
            std::string type = header_.e_type == ET_EXEC  ? "ET_EXEC (a fixed-address executable)"
                               : header_.e_type == ET_REL ? "ET_REL (an unlinked object file)"
                                                          : std::to_string(header_.e_type);
            report(rule::kElfHeader,
                   "type is " + type + "; modules are position-independent ET_DYN (-shared)");
        }
        return true;
    }

    // libelf quietly reads fewer entries from a table cut short by truncation; checking the
    // bounds first turns that into a named error instead of, say, a "missing" manifest.
    bool check_table_bounds(const char* table, uint64_t offset, uint64_t count, uint64_t entry_size,
                            uint64_t expected_entry_size) {
        if (count == 0) return true;
        size_t file_size = 0;
        elf_rawfile(elf_, &file_size);
        if (entry_size != expected_entry_size) {
            report(rule::kElfHeader, std::string(table) + " entries are " +
                                         std::to_string(entry_size) + " bytes, not " +
                                         std::to_string(expected_entry_size));
            return false;
        }
        if (offset > file_size || count * entry_size > file_size - offset) {
            report(rule::kElfHeader, std::string(table) + " (" + std::to_string(count) +
                                         " entries at offset " + hex(offset) +
                                         ") extends past the end of the file (" +
                                         std::to_string(file_size) + " bytes): truncated?");
            return false;
        }
        return true;
    }

    bool load_sections() {
        size_t string_index = 0;
        if (elf_getshdrstrndx(elf_, &string_index) != 0) {
            report(rule::kElfHeader, "cannot read the section header table: " + elf_error());
            return false;
        }
        for (Elf_Scn* handle = elf_nextscn(elf_, nullptr); handle != nullptr;
             handle = elf_nextscn(elf_, handle)) {
            Section section{handle, {}, ""};
            if (gelf_getshdr(handle, &section.header) == nullptr) {
                report(rule::kElfHeader, "corrupt section header " +
                                             std::to_string(elf_ndxscn(handle)) + ": " +
                                             elf_error());
                return false;
            }
            const char* name = elf_strptr(elf_, string_index, section.header.sh_name);
            section.name = name != nullptr ? name : "";
            size_t file_size = 0;
            elf_rawfile(elf_, &file_size);
            if (section.header.sh_type != SHT_NOBITS &&
                (section.header.sh_offset > file_size ||
                 section.header.sh_size > file_size - section.header.sh_offset)) {
                report(rule::kElfHeader, "section " + section.name + " (" +
                                             std::to_string(section.header.sh_size) +
                                             " bytes at offset " + hex(section.header.sh_offset) +
                                             ") extends past the end of the file: truncated?");
                return false;
            }
            sections_[elf_ndxscn(handle)] = section;
        }
        if (elf_errno() != 0) {
            report(rule::kElfHeader, "corrupt section table: " + elf_error());
            return false;
        }
        facts_.section_count = sections_.size();
        return true;
    }

    // Raw bytes of a section that lies inside the file, or nullptr after reporting why not.
    Elf_Data* section_data(const Section& section) {
        Elf_Data* data = elf_getdata(section.handle, nullptr);
        if (data == nullptr && section.header.sh_type != SHT_NOBITS &&
            section.header.sh_size != 0) {
            report(rule::kElfHeader, "cannot read section " + section.name + ": " + elf_error());
        }
        return data;
    }

    void check_segments() {
        size_t count = 0;
        if (elf_getphdrnum(elf_, &count) != 0) {
            report(rule::kElfHeader, "cannot read the program header table: " + elf_error());
            return;
        }
        for (size_t index = 0; index < count; ++index) {
            GElf_Phdr segment;
            if (gelf_getphdr(elf_, int(index), &segment) == nullptr) {
                report(rule::kElfHeader,
                       "corrupt program header " + std::to_string(index) + ": " + elf_error());
                continue;
            }
            if (segment.p_type == PT_INTERP) {
                report(rule::kInterpreter, "PT_INTERP asks for program interpreter " +
                                               interpreter_path(segment) +
                                               "; modules are loaded by the nucleus (link with "
                                               "-shared, not -pie)");
            } else if (segment.p_type == PT_TLS) {
                report(rule::kThreadLocal, "PT_TLS segment of " + std::to_string(segment.p_memsz) +
                                               " bytes: thread-local storage is per-thread "
                                               "state a module must not keep");
            } else if (segment.p_type == PT_LOAD && (segment.p_flags & PF_W) &&
                       (segment.p_flags & PF_X)) {
                report(rule::kWriteExecute, "PT_LOAD segment " + std::to_string(index) + " at " +
                                                hex(segment.p_vaddr) + " (" +
                                                std::to_string(segment.p_memsz) +
                                                " bytes) is both writable and executable");
            }
        }
    }

    std::string interpreter_path(const GElf_Phdr& segment) {
        size_t size = 0;
        const char* file = elf_rawfile(elf_, &size);
        if (file == nullptr || segment.p_offset >= size) return "(outside the file)";
        size_t limit = std::min<size_t>(segment.p_filesz, size - segment.p_offset);
        return std::string(file + segment.p_offset, strnlen(file + segment.p_offset, limit));
    }

    void check_dynamic() {
        for (auto& [index, section] : sections_) {
            if (section.header.sh_type != SHT_DYNAMIC) continue;
            Elf_Data* data = section_data(section);
            if (data == nullptr) continue;
            size_t entries =
                section.header.sh_entsize ? data->d_size / section.header.sh_entsize : 0;
            for (size_t entry = 0; entry < entries; ++entry) {
                GElf_Dyn dynamic;
                if (gelf_getdyn(data, int(entry), &dynamic) == nullptr) break;
                if (dynamic.d_tag == DT_NULL) break;
                if (dynamic.d_tag == DT_NEEDED) {
                    const char* library =
                        elf_strptr(elf_, section.header.sh_link, dynamic.d_un.d_val);
                    report(rule::kNeeded, std::string("DT_NEEDED ") +
                                              (library ? library : "(unreadable name)") +
                                              ": modules link statically against the SDK "
                                              "runtime and depend on no shared library");
                } else if (dynamic.d_tag == DT_TEXTREL ||
                           (dynamic.d_tag == DT_FLAGS && (dynamic.d_un.d_val & DF_TEXTREL))) {
                    report(rule::kRelocation,
                           "DT_TEXTREL: relocations patch read-only pages "
                           "(code built without -fPIC)");
                } else if (dynamic.d_tag == DT_INIT || dynamic.d_tag == DT_FINI) {
                    report(rule::kInitializer,
                           std::string(dynamic.d_tag == DT_INIT ? "DT_INIT" : "DT_FINI") +
                               " function at " + hex(dynamic.d_un.d_ptr) +
                               ": the nucleus runs no load-time or unload-time code");
                }
            }
        }
    }

    // Every undefined symbol, once, with the tables it appears in.
    void check_symbols() {
        std::map<std::string, std::set<std::string>> undefined;
        for (auto& [index, section] : sections_) {
            if (section.header.sh_type != SHT_SYMTAB && section.header.sh_type != SHT_DYNSYM)
                continue;
            Elf_Data* data = section_data(section);
            if (data == nullptr || section.header.sh_entsize == 0) continue;
            size_t count = data->d_size / section.header.sh_entsize;
            for (size_t entry = 1; entry < count; ++entry) {  // entry 0 is the null symbol
                GElf_Sym symbol;
                if (gelf_getsym(data, int(entry), &symbol) == nullptr) break;
                if (symbol.st_shndx != SHN_UNDEF) continue;
                const char* name = elf_strptr(elf_, section.header.sh_link, symbol.st_name);
                if (name == nullptr || *name == '\0') continue;
                undefined[name].insert(section.name);
            }
        }
        for (auto& [name, tables] : undefined) {
            std::string where;
            for (const std::string& table : tables) where += (where.empty() ? "" : ", ") + table;
            report(rule::kUndefinedSymbol,
                   quoted_symbol(name.c_str()) + " is undefined (in " + where +
                       "); modules reach the nucleus only through the vtables passed to "
                       "their entry point");
        }
    }

    std::string symbol_name(const Section& relocation_section, uint64_t symbol_index) {
        if (symbol_index == 0) return "";
        auto table = sections_.find(relocation_section.header.sh_link);
        if (table == sections_.end()) return "symbol " + std::to_string(symbol_index);
        Elf_Data* data = elf_getdata(table->second.handle, nullptr);
        GElf_Sym symbol;
        if (data == nullptr || gelf_getsym(data, int(symbol_index), &symbol) == nullptr) {
            return "symbol " + std::to_string(symbol_index);
        }
        const char* name = elf_strptr(elf_, table->second.header.sh_link, symbol.st_name);
        return name != nullptr ? name : "symbol " + std::to_string(symbol_index);
    }

    // Dynamic relocations (allocated REL/RELA sections): only R_X86_64_RELATIVE. RELR
    // sections encode relative relocations only and pass. One line per (type, symbol).
    void check_relocations() {
        struct Offender {
            size_t count = 0;
            uint64_t first_offset = 0;
            std::string section;
        };
        std::map<std::pair<uint32_t, std::string>, Offender> offenders;
        for (auto& [index, section] : sections_) {
            uint32_t type = section.header.sh_type;
            if ((type != SHT_RELA && type != SHT_REL) || !(section.header.sh_flags & SHF_ALLOC))
                continue;
            Elf_Data* data = section_data(section);
            if (data == nullptr || section.header.sh_entsize == 0) continue;
            size_t count = data->d_size / section.header.sh_entsize;
            for (size_t entry = 0; entry < count; ++entry) {
                uint64_t info = 0, offset = 0;
                if (type == SHT_RELA) {
                    GElf_Rela relocation;
                    if (gelf_getrela(data, int(entry), &relocation) == nullptr) break;
                    info = relocation.r_info;
                    offset = relocation.r_offset;
                } else {
                    GElf_Rel relocation;
                    if (gelf_getrel(data, int(entry), &relocation) == nullptr) break;
                    info = relocation.r_info;
                    offset = relocation.r_offset;
                }
                uint32_t relocation_type = uint32_t(GELF_R_TYPE(info));
                if (relocation_type == R_X86_64_RELATIVE) {
                    ++facts_.relative_relocations;
                    continue;
                }
                auto key = std::make_pair(relocation_type, symbol_name(section, GELF_R_SYM(info)));
                Offender& offender = offenders[key];
                if (offender.count++ == 0) {
                    offender.first_offset = offset;
                    offender.section = section.name;
                }
            }
        }
        for (auto& [key, offender] : offenders) {
            std::string detail = x86_64_relocation_name(key.first);
            if (!key.second.empty()) detail += " against " + quoted_symbol(key.second.c_str());
            detail += " at " + hex(offender.first_offset) + " in " + offender.section;
            if (offender.count > 1)
                detail += " (" + std::to_string(offender.count) + " such relocations)";
            detail += "; only R_X86_64_RELATIVE is allowed";
            report(rule::kRelocation, detail);
        }
    }

    // Symbol names defined in each section, from .symtab (which has the local ones, such as
    // a file-scope `static int counter`) or else .dynsym.
    std::map<size_t, std::vector<std::string>> symbols_by_section() {
        std::map<size_t, std::vector<std::string>> result;
        const Section* table = nullptr;
        for (auto& [index, section] : sections_) {
            if (section.header.sh_type == SHT_SYMTAB) table = &section;
        }
        if (table == nullptr) {
            for (auto& [index, section] : sections_) {
                if (section.header.sh_type == SHT_DYNSYM) table = &section;
            }
        }
        if (table == nullptr || table->header.sh_entsize == 0) return result;
        Elf_Data* data = elf_getdata(table->handle, nullptr);
        if (data == nullptr) return result;
        std::set<std::pair<size_t, std::string>> seen;
        size_t count = data->d_size / table->header.sh_entsize;
        for (size_t entry = 1; entry < count; ++entry) {
            GElf_Sym symbol;
            if (gelf_getsym(data, int(entry), &symbol) == nullptr) break;
            int kind = GELF_ST_TYPE(symbol.st_info);
            if (kind == STT_SECTION || kind == STT_FILE) continue;
            if (symbol.st_shndx == SHN_UNDEF || symbol.st_shndx >= SHN_LORESERVE) continue;
            const char* name = elf_strptr(elf_, table->header.sh_link, symbol.st_name);
            if (name == nullptr || *name == '\0') continue;
            if (seen.insert({symbol.st_shndx, name}).second) {
                result[symbol.st_shndx].push_back(quoted_symbol(name));
            }
        }
        return result;
    }

    std::string describe_contents(const std::vector<std::string>& names) {
        if (names.empty()) return "no symbol names (stripped module?)";
        std::string text;
        for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
        return text;
    }

    void check_sections() {
        auto symbols = symbols_by_section();
        for (auto& [index, section] : sections_) {
            const GElf_Shdr& header = section.header;
            if (!(header.sh_flags & SHF_ALLOC) || header.sh_size == 0) continue;
            bool initializer =
                kInitializerSections.count(section.name) || header.sh_type == SHT_INIT_ARRAY ||
                header.sh_type == SHT_FINI_ARRAY || header.sh_type == SHT_PREINIT_ARRAY;
            std::string size = std::to_string(header.sh_size) + " bytes";
            if (initializer) {
                report(rule::kInitializer,
                       "section " + section.name + " (" + size +
                           ") lists constructors or destructors the nucleus never runs; "
                           "globals must be constant-initialised");
            } else if (header.sh_flags & SHF_TLS) {
                report(rule::kThreadLocal, "section " + section.name + " (" + size +
                                               ") holds thread-local " +
                                               describe_contents(symbols[index]));
            } else if ((header.sh_flags & SHF_WRITE) &&
                       !kRelocatedReadOnlySections.count(section.name)) {
                std::string hint = section.name == ".got.plt"
                                       ? "; link with -Wl,-z,now so the GOT is read-only"
                                       : "; module state lives in the context the nucleus "
                                         "passes in, never in globals";
                report(rule::kWritableData,
                       "section " + section.name + " (" + size +
                           ") is writable data: " + describe_contents(symbols[index]) + hint);
            }
        }
    }

    void check_manifest_section() {
        const Section* manifest = nullptr;
        for (auto& [index, section] : sections_) {
            if (section.name == ".kabi_manifest") manifest = &section;
        }
        if (manifest == nullptr) {
            report(rule::kManifest,
                   "no .kabi_manifest section (generate it with kabi-gen and "
                   "place it with UMKA_KABI_DEFINE_MANIFEST_<MODULE>())");
            return;
        }
        if (manifest->header.sh_type == SHT_NOBITS || manifest->header.sh_size == 0) {
            report(rule::kManifest, "the .kabi_manifest section is empty");
            return;
        }
        Elf_Data* data = section_data(*manifest);
        if (data == nullptr || data->d_buf == nullptr) return;
        check_manifest(static_cast<const uint8_t*>(data->d_buf), data->d_size, violations_, facts_);
    }

    Elf* elf_;
    ModuleFacts& facts_;
    GElf_Ehdr header_{};
    std::map<size_t, Section> sections_;  // by section index, so reports follow file order
    std::vector<Violation> violations_;
};

}  // namespace

namespace {

// The libelf rules alone: every culprit by name.
std::vector<Violation> check_named_rules(const uint8_t* image, size_t size, ModuleFacts& facts) {
    if (size == 0) return {{rule::kElfHeader, "the file is empty"}};
    if (elf_version(EV_CURRENT) == EV_NONE) {
        return {{rule::kElfHeader, std::string("libelf is unusable: ") + elf_errmsg(-1)}};
    }
    // libelf wants a mutable buffer; a private copy keeps the caller's bytes untouched.
    std::vector<char> copy(image, image + size);
    Elf* elf = elf_memory(copy.data(), copy.size());
    if (elf == nullptr) {
        return {{rule::kElfHeader,
                 std::string("cannot parse as ELF (truncated or corrupt): ") + elf_errmsg(-1)}};
    }
    std::vector<Violation> violations = ModuleChecker(elf, facts).run();
    elf_end(elf);
    return violations;
}

}  // namespace

std::vector<Violation> check_module(const uint8_t* image, size_t size, ModuleFacts& facts) {
    facts = ModuleFacts{};
    // The verdict is the nucleus loader's (the code that refuses modules at boot), so the
    // tools and the loader cannot disagree; the named rules add every culprit after it.
    umka::modules::ModuleLayout layout;
    umka::modules::Diagnostic diagnostic;
    bool loader_accepts = umka::modules::validate_module(image, size, layout, diagnostic).is_ok();
    std::vector<Violation> violations;
    if (!loader_accepts) violations.push_back({rule::kLoader, diagnostic.text()});
    std::vector<Violation> named = check_named_rules(image, size, facts);
    violations.insert(violations.end(), named.begin(), named.end());
    if (loader_accepts && !named.empty()) {
        violations.push_back({rule::kLoader,
                              "the nucleus loader accepts this module but the rules above do not; "
                              "refused until they agree (report this)"});
    }
    if (loader_accepts) {
        facts.relative_relocations = layout.relocation_count;
        // The loader parsed this manifest during validation; read it back for the facts.
        umka::Result<umka::modules::ManifestView> manifest = umka::modules::ManifestView::parse(
            image + layout.manifest_file_offset, layout.manifest_size, diagnostic);
        if (manifest.is_ok()) {
            facts.module_name = manifest.value().name();
            facts.module_version = manifest.value().module_version();
        }
    }
    return violations;
}

}  // namespace umka::tools
