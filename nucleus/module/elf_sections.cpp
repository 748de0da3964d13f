// Module ELF validation, part 2: section headers (writable data, TLS, constructor arrays,
// the manifest) and symbols (nothing undefined, the entry point).
#include "nucleus/lib/format.h"
#include "nucleus/module/elf_internal.h"
#include "nucleus/module/names.h"
#include "nucleus/module/symbol_names.h"

namespace umka::modules::detail {
namespace {

using namespace elf;

// Writable at link time, read-only once relocated: the loader write-protects them.
constexpr const char* kRelocatedDataSections[] = {".data.rel.ro", ".data.rel.ro.local", ".got",
                                                  ".got.plt", ".dynamic"};

bool is_relocated_data(const char* name) {
    for (const char* allowed : kRelocatedDataSections) {
        if (names_equal(name, allowed)) return true;
    }
    return false;
}

bool read_section(const ElfFacts& facts, uint32_t index, SectionHeader& section) {
    return facts.file.read(facts.header.section_header_offset + uint64_t(index) * sizeof(section),
                           section);
}

// A symbol table section and the string table its sh_link names.
Status take_symbol_table(ElfFacts& facts, const SectionHeader& section, const char* name,
                         FileTable& table, StringTable& strings, Diagnostic& diagnostic) {
    if (table.present) {
        return refuse(diagnostic, Errno::ExecFormat, "more than one %s section", name);
    }
    if (section.entry_size != sizeof(Symbol) || section.size % sizeof(Symbol) != 0) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "%s entries are %lu bytes (table %lu bytes), not 24", name,
                      section.entry_size, section.size);
    }
    SectionHeader string_section;
    if (section.link == 0 || section.link >= facts.header.section_header_count ||
        !read_section(facts, section.link, string_section) ||
        string_section.type != kSectionStringTable ||
        !facts.file.contains(string_section.offset, string_section.size)) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "%s links to section %u, which is not a string table inside the file", name,
                      section.link);
    }
    table = FileTable{section.offset, section.size / sizeof(Symbol), true};
    strings = StringTable{string_section.offset, string_section.size};
    return Status::ok();
}

// Refusal for a section that must not exist in a module (writable data, TLS, constructors).
Errno refuse_section(const ElfFacts& facts, uint16_t index, const SectionHeader& section,
                     const char* name, Diagnostic& diagnostic) {
    char readable[128];
    const char* symbol = readable_symbol_name(
        symbol_near(facts, index, section.address, section.size), readable, sizeof(readable));
    if (section.flags & kSectionThreadLocal) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "thread-local section '%s' holds '%s': modules have no TLS (state goes in "
                      "a nucleus state region)",
                      name, symbol ? symbol : "?");
    }
    if (section.type == kSectionInitArray || section.type == kSectionFiniArray ||
        section.type == kSectionPreinitArray) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "section '%s' holds %lu constructor/destructor pointer(s): a global with a "
                      "dynamic initializer or destructor; modules run no code before "
                      "umka_module_entry",
                      name, section.size / 8);
    }
    if (symbol != nullptr) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "writable section '%s' holds '%s': modules keep no writable globals "
                      "(state goes in a nucleus state region)",
                      name, symbol);
    }
    return refuse(diagnostic, Errno::ExecFormat,
                  "writable section '%s' holds %lu bytes (no symbol names them): modules keep "
                  "no writable globals",
                  name, section.size);
}

Status check_manifest_section(ElfFacts& facts, const SectionHeader& section,
                              Diagnostic& diagnostic) {
    ModuleLayout& layout = facts.layout;
    if (facts.has_manifest) {
        return refuse(diagnostic, Errno::ExecFormat, "more than one .kabi_manifest section");
    }
    facts.has_manifest = true;
    if (section.type != kSectionProgramBits || !(section.flags & kSectionAlloc) ||
        (section.flags & (kSectionWrite | kSectionExecute))) {
        return refuse(diagnostic, Errno::ExecFormat,
                      ".kabi_manifest must be allocated, read-only, non-executable data (type %u, "
                      "flags 0x%lx)",
                      section.type, section.flags);
    }
    uint64_t offset = 0;
    const LoadSegment* segment = segment_containing(layout, section.address, section.size);
    if (section.size == 0 || segment == nullptr || (segment->flags & kSegmentWrite) ||
        !file_offset_of(layout, section.address, section.size, offset) ||
        offset != section.offset) {
        return refuse(diagnostic, Errno::ExecFormat,
                      ".kabi_manifest (0x%lx bytes at 0x%lx) is not file-backed inside a "
                      "read-only PT_LOAD segment",
                      section.size, section.address);
    }
    layout.manifest_address = section.address;
    layout.manifest_file_offset = offset;
    layout.manifest_size = section.size;
    Result<ManifestView> manifest =
        ManifestView::parse(facts.file.data() + offset, section.size, diagnostic);
    if (manifest.is_error()) {
        diagnostic.prefix("bad .kabi_manifest");
        return Errno::ExecFormat;
    }
    return Status::ok();
}

}  // namespace

const char* dynamic_symbol_name(const ElfFacts& facts, uint32_t index, char* buffer,
                                size_t capacity) {
    Symbol symbol;
    if (facts.dynamic_symbols.present && index < facts.dynamic_symbols.count &&
        facts.file.read(facts.dynamic_symbols.offset + uint64_t(index) * sizeof(symbol), symbol)) {
        const char* name = facts.file.string_at(facts.dynamic_strings.offset,
                                                facts.dynamic_strings.size, symbol.name);
        if (name != nullptr && name[0] != '\0') return readable_symbol_name(name, buffer, capacity);
    }
    format(buffer, capacity, "symbol #%u", index);
    return buffer;
}

namespace {

// The name of the first symbol of .symtab, then .dynsym, that `accept` takes (section and
// file symbols and unnamed ones are skipped); nullptr when it takes none.
template <typename Accept>
const char* first_symbol(const ElfFacts& facts, Accept accept) {
    const FileTable* tables[] = {&facts.symbols, &facts.dynamic_symbols};
    const StringTable* strings[] = {&facts.symbol_strings, &facts.dynamic_strings};
    for (size_t table = 0; table < 2; ++table) {
        if (!tables[table]->present) continue;
        for (uint64_t index = 1; index < tables[table]->count; ++index) {
            Symbol symbol;
            facts.file.read(tables[table]->offset + index * sizeof(symbol), symbol);
            uint8_t type = symbol_type(symbol.info);
            if (type == kTypeSection || type == kTypeFile || !accept(symbol)) continue;
            const char* name =
                facts.file.string_at(strings[table]->offset, strings[table]->size, symbol.name);
            if (name != nullptr && name[0] != '\0') return name;
        }
    }
    return nullptr;
}

}  // namespace

const char* symbol_near(const ElfFacts& facts, uint16_t section_index, uint64_t address,
                        uint64_t length) {
    return first_symbol(facts, [&](const Symbol& symbol) {
        bool in_section =
            section_index != kSectionIndexUndefined && symbol.section_index == section_index;
        return in_section || (symbol.value >= address && symbol.value - address < length);
    });
}

const char* function_containing(const ElfFacts& facts, uint64_t address, uint64_t& start) {
    const char* name = first_symbol(facts, [&](const Symbol& symbol) {
        if (symbol_type(symbol.info) != kTypeFunction || address < symbol.value ||
            address - symbol.value >= symbol.size) {
            return false;
        }
        start = symbol.value;
        return true;
    });
    return name;
}

Status check_sections(ElfFacts& facts, Diagnostic& diagnostic) {
    const FileHeader& header = facts.header;
    SectionHeader names;
    read_section(facts, header.section_name_table_index, names);
    if (names.type != kSectionStringTable || !facts.file.contains(names.offset, names.size)) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "section name table (section %u) is not a string table inside the file",
                      unsigned(header.section_name_table_index));
    }
    facts.section_names = StringTable{names.offset, names.size};

    // Pass 1: structure, and the symbol tables (pass 2 names symbols in its refusals).
    for (uint16_t index = 1; index < header.section_header_count; ++index) {
        SectionHeader section;
        read_section(facts, index, section);
        const char* name = facts.file.string_at(names.offset, names.size, section.name);
        if (name == nullptr) {
            return refuse(diagnostic, Errno::ExecFormat,
                          "section %u has a name outside the section name table", unsigned(index));
        }
        if (section.type != kSectionNoBits && section.type != kSectionNull &&
            !facts.file.contains(section.offset, section.size)) {
            return refuse(diagnostic, Errno::ExecFormat,
                          "section '%s' (0x%lx bytes at 0x%lx) runs past the end of the file", name,
                          section.size, section.offset);
        }
        if ((section.flags & kSectionAlloc) && section.size > 0 &&
            segment_containing(facts.layout, section.address, section.size) == nullptr) {
            return refuse(diagnostic, Errno::ExecFormat,
                          "allocated section '%s' at 0x%lx (+0x%lx) lies outside every PT_LOAD "
                          "segment",
                          name, section.address, section.size);
        }
        if (section.type == kSectionDynamicSymbols) {
            TRY(take_symbol_table(facts, section, ".dynsym", facts.dynamic_symbols,
                                  facts.dynamic_strings, diagnostic));
        } else if (section.type == kSectionSymbolTable) {
            TRY(take_symbol_table(facts, section, ".symtab", facts.symbols, facts.symbol_strings,
                                  diagnostic));
        }
    }
    if (!facts.dynamic_symbols.present) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "no .dynsym section: umka_module_entry cannot be found");
    }

    // Pass 2: the rules.
    for (uint16_t index = 1; index < header.section_header_count; ++index) {
        SectionHeader section;
        read_section(facts, index, section);
        const char* name = facts.file.string_at(names.offset, names.size, section.name);
        if (names_equal(name, ".kabi_manifest")) {
            TRY(check_manifest_section(facts, section, diagnostic));
            continue;
        }
        if (!(section.flags & kSectionAlloc) || section.size == 0) continue;
        bool constructors = section.type == kSectionInitArray ||
                            section.type == kSectionFiniArray ||
                            section.type == kSectionPreinitArray;
        bool thread_local_data = (section.flags & kSectionThreadLocal) != 0;
        bool writable_data = (section.flags & kSectionWrite) && !is_relocated_data(name);
        if (constructors || thread_local_data || writable_data) {
            return refuse_section(facts, index, section, name, diagnostic);
        }
    }
    if (!facts.has_manifest) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "no .kabi_manifest section: expand UMKA_KABI_DEFINE_MANIFEST_<MODULE>() once "
                      "in the module");
    }
    return Status::ok();
}

Status check_symbols(ElfFacts& facts, Diagnostic& diagnostic) {
    ModuleLayout& layout = facts.layout;
    bool found_entry = false;
    for (uint64_t index = 1; index < facts.dynamic_symbols.count; ++index) {
        Symbol symbol;
        facts.file.read(facts.dynamic_symbols.offset + index * sizeof(symbol), symbol);
        const char* name = facts.file.string_at(facts.dynamic_strings.offset,
                                                facts.dynamic_strings.size, symbol.name);
        if (name == nullptr) {
            return refuse(diagnostic, Errno::ExecFormat,
                          ".dynsym entry %lu has a name outside .dynstr", index);
        }
        char readable[128];
        if (symbol.section_index == kSectionIndexUndefined) {
            if (name[0] == '\0') continue;
            return refuse(diagnostic, Errno::ExecFormat,
                          "undefined symbol '%s': modules reach everything through vtables "
                          "handed to umka_module_entry",
                          readable_symbol_name(name, readable, sizeof(readable)));
        }
        if (symbol_type(symbol.info) == kTypeThreadLocal) {
            return refuse(diagnostic, Errno::ExecFormat,
                          "thread-local symbol '%s': modules have no TLS",
                          readable_symbol_name(name, readable, sizeof(readable)));
        }
        if (names_equal(name, UMKA_FAULT_SITE_SYMBOL) &&
            symbol_type(symbol.info) == kTypeFunction) {
            // Optional: only the fault-injection fixture has it called (umka/fault_site.h).
            const LoadSegment* site = segment_containing(layout, symbol.value, 1);
            if (site != nullptr && (site->flags & kSegmentExecute)) {
                layout.fault_site_address = symbol.value;
            }
            continue;
        }
        if (!names_equal(name, UMKA_MODULE_ENTRY_SYMBOL) || found_entry) continue;
        uint8_t binding = symbol_binding(symbol.info);
        if (symbol_type(symbol.info) != kTypeFunction ||
            (binding != kBindGlobal && binding != kBindWeak) ||
            (symbol_visibility(symbol.other) != kVisibilityDefault &&
             symbol_visibility(symbol.other) != kVisibilityProtected)) {
            return refuse(diagnostic, Errno::ExecFormat,
                          "'%s' is not an exported function (type %u, binding %u, visibility %u)",
                          name, unsigned(symbol_type(symbol.info)), unsigned(binding),
                          unsigned(symbol_visibility(symbol.other)));
        }
        const LoadSegment* segment =
            segment_containing(layout, symbol.value, symbol.size > 0 ? symbol.size : 1);
        if (segment == nullptr || !(segment->flags & kSegmentExecute)) {
            return refuse(diagnostic, Errno::ExecFormat,
                          "'%s' at 0x%lx (+0x%lx) is not inside an executable segment", name,
                          symbol.value, symbol.size);
        }
        layout.entry_address = symbol.value;
        found_entry = true;
    }
    if (!found_entry) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "no exported function '%s' in .dynsym (define it with UMKA_MODULE_ENTRY)",
                      UMKA_MODULE_ENTRY_SYMBOL);
    }
    return Status::ok();
}

}  // namespace umka::modules::detail
