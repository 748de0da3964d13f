// Byte-level editing of a module ELF for the loader tests: find program headers, sections,
// dynamic entries, symbols and relocations of a good module and break one thing at a time.
// Host-only (uses <elf.h>).
#pragma once

#include <elf.h>
#include <stdint.h>

#include <cstring>
#include <string>
#include <vector>

namespace umka::test {

class ElfPatch {
public:
    explicit ElfPatch(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}

    std::vector<uint8_t>& bytes() { return bytes_; }

    template <typename T>
    T read(size_t offset) const {
        T value;
        std::memcpy(&value, bytes_.data() + offset, sizeof(T));
        return value;
    }
    template <typename T>
    void write(size_t offset, const T& value) {
        std::memcpy(bytes_.data() + offset, &value, sizeof(T));
    }

    Elf64_Ehdr header() const { return read<Elf64_Ehdr>(0); }
    void set_header(const Elf64_Ehdr& header) { write(0, header); }

    size_t program_header_offset(size_t index) const {
        return header().e_phoff + index * sizeof(Elf64_Phdr);
    }
    Elf64_Phdr program_header(size_t index) const {
        return read<Elf64_Phdr>(program_header_offset(index));
    }
    void set_program_header(size_t index, const Elf64_Phdr& program) {
        write(program_header_offset(index), program);
    }
    // Index of the first program header of `type` (and, for PT_LOAD, with `flags` exactly).
    int find_program_header(uint32_t type, int flags = -1) const;

    size_t section_header_offset(size_t index) const {
        return header().e_shoff + index * sizeof(Elf64_Shdr);
    }
    Elf64_Shdr section(size_t index) const {
        return read<Elf64_Shdr>(section_header_offset(index));
    }
    void set_section(size_t index, const Elf64_Shdr& section) {
        write(section_header_offset(index), section);
    }
    int find_section(const std::string& name) const;

    // File offset of the dynamic entry with `tag` (first one), or 0.
    size_t find_dynamic(int64_t tag) const;
    // File offsets of every dynamic entry up to and including DT_NULL.
    std::vector<size_t> dynamic_entries() const;

    // File offset of the .dynsym entry named `name`, or 0.
    size_t find_dynamic_symbol(const std::string& name) const;
    // File offset of relocation `index` in .rela.dyn.
    size_t relocation_offset(size_t index) const;

    // Virtual address -> file offset through the PT_LOAD segments (0 if unmapped).
    size_t file_offset_of(uint64_t address) const;

private:
    std::vector<uint8_t> bytes_;
};

}  // namespace umka::test
