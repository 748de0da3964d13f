// Shared by the stages of module ELF validation (elf_layout.cpp, elf_sections.cpp,
// elf_relocations.cpp) and by loading (elf_module.cpp). Not for use outside nucleus/module.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/module/elf_format.h"
#include "nucleus/module/elf_module.h"

namespace umka::modules::detail {

// Bounded reads from the module file. Values are copied out with memcpy: the file may sit
// at any alignment, and nothing is ever read past `size`.
class FileReader {
public:
    constexpr FileReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    constexpr bool contains(uint64_t offset, uint64_t length) const {
        return offset <= size_ && length <= size_ - offset;
    }

    template <typename T>
    bool read(uint64_t offset, T& out) const {
        if (!contains(offset, sizeof(T))) return false;
        __builtin_memcpy(&out, data_ + offset, sizeof(T));
        return true;
    }

    // The NUL-terminated string at `index` of the string table [offset, offset + size), or
    // nullptr when the index is outside the table or no NUL follows inside it.
    const char* string_at(uint64_t table_offset, uint64_t table_size, uint64_t index) const;

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }

private:
    const uint8_t* data_;
    size_t size_;
};

// A table of fixed-size records inside the file.
struct FileTable {
    uint64_t offset = 0;
    uint64_t count = 0;
    bool present = false;
};

struct StringTable {
    uint64_t offset = 0;
    uint64_t size = 0;
};

// What the validation stages learn and pass on.
struct ElfFacts {
    FileReader file;
    ModuleLayout& layout;
    elf::FileHeader header{};

    // PT_DYNAMIC and what it says (addresses are virtual; *_offset ones are file offsets).
    uint64_t dynamic_offset = 0;
    uint64_t dynamic_count = 0;
    bool has_rela = false;
    uint64_t rela_address = 0;
    uint64_t rela_size = 0;
    uint64_t rela_entry_size = 0;
    bool has_jump_relocations = false;
    uint64_t jump_relocations_address = 0;
    uint64_t jump_relocations_size = 0;

    // Sections.
    StringTable section_names;
    FileTable dynamic_symbols;  // .dynsym
    StringTable dynamic_strings;
    FileTable symbols;  // .symtab (optional: a stripped module has none)
    StringTable symbol_strings;
    bool has_manifest = false;
};

// Stages, in the order validate_module runs them. Each refuses with Errno::ExecFormat.
Status check_file_header(ElfFacts& facts, Diagnostic& diagnostic);
Status check_program_headers(ElfFacts& facts, Diagnostic& diagnostic);
Status check_sections(ElfFacts& facts, Diagnostic& diagnostic);
Status check_dynamic_section(ElfFacts& facts, Diagnostic& diagnostic);
Status check_symbols(ElfFacts& facts, Diagnostic& diagnostic);
Status check_relocations(ElfFacts& facts, Diagnostic& diagnostic);

// Writes every RELATIVE relocation into the image at `base` (validated layout).
void apply_relocations(const FileReader& file, const ModuleLayout& layout, uint8_t* base);

// File offset of the virtual range [address, address + length) when it lies inside the
// file-backed part of one PT_LOAD segment; false otherwise.
bool file_offset_of(const ModuleLayout& layout, uint64_t address, uint64_t length,
                    uint64_t& offset);

// The PT_LOAD segment whose memory holds [address, address + length), or nullptr.
const LoadSegment* segment_containing(const ModuleLayout& layout, uint64_t address,
                                      uint64_t length);

// Name of .dynsym entry `index` for messages ("symbol #N" when it has none).
const char* dynamic_symbol_name(const ElfFacts& facts, uint32_t index, char* buffer,
                                size_t capacity);

// A symbol (from .symtab, else .dynsym) naming something at `address` or in section
// `section_index` (pass kSectionIndexUndefined to match by address only); nullptr if none.
// The function symbol whose [value, value + size) holds `address` (a link-time address),
// its start in `start`; nullptr when none does.
const char* function_containing(const ElfFacts& facts, uint64_t address, uint64_t& start);
const char* symbol_near(const ElfFacts& facts, uint16_t section_index, uint64_t address,
                        uint64_t length);

constexpr uint64_t page_down(uint64_t value) {
    return value & ~(kModulePageSize - 1);
}
constexpr uint64_t page_up(uint64_t value) {
    return (value + kModulePageSize - 1) & ~(kModulePageSize - 1);
}

}  // namespace umka::modules::detail
