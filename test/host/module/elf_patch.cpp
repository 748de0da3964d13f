#include "elf_patch.h"

namespace umka::test {

int ElfPatch::find_program_header(uint32_t type, int flags) const {
    for (size_t index = 0; index < header().e_phnum; ++index) {
        Elf64_Phdr program = program_header(index);
        if (program.p_type == type && (flags < 0 || int(program.p_flags) == flags)) {
            return int(index);
        }
    }
    return -1;
}

int ElfPatch::find_section(const std::string& name) const {
    Elf64_Shdr names = section(header().e_shstrndx);
    for (size_t index = 0; index < header().e_shnum; ++index) {
        const char* text =
            reinterpret_cast<const char*>(bytes_.data() + names.sh_offset + section(index).sh_name);
        if (name == text) return int(index);
    }
    return -1;
}

std::vector<size_t> ElfPatch::dynamic_entries() const {
    std::vector<size_t> entries;
    int dynamic = find_program_header(PT_DYNAMIC);
    if (dynamic < 0) return entries;
    Elf64_Phdr program = program_header(size_t(dynamic));
    for (size_t offset = program.p_offset; offset < program.p_offset + program.p_filesz;
         offset += sizeof(Elf64_Dyn)) {
        entries.push_back(offset);
        if (read<Elf64_Dyn>(offset).d_tag == DT_NULL) break;
    }
    return entries;
}

size_t ElfPatch::find_dynamic(int64_t tag) const {
    for (size_t offset : dynamic_entries()) {
        if (read<Elf64_Dyn>(offset).d_tag == tag) return offset;
    }
    return 0;
}

size_t ElfPatch::find_dynamic_symbol(const std::string& name) const {
    int symbols = find_section(".dynsym");
    if (symbols < 0) return 0;
    Elf64_Shdr table = section(size_t(symbols));
    Elf64_Shdr strings = section(table.sh_link);
    for (size_t offset = table.sh_offset; offset < table.sh_offset + table.sh_size;
         offset += sizeof(Elf64_Sym)) {
        Elf64_Sym symbol = read<Elf64_Sym>(offset);
        const char* text =
            reinterpret_cast<const char*>(bytes_.data() + strings.sh_offset + symbol.st_name);
        if (name == text) return offset;
    }
    return 0;
}

size_t ElfPatch::relocation_offset(size_t index) const {
    int relocations = find_section(".rela.dyn");
    if (relocations < 0) return 0;
    return section(size_t(relocations)).sh_offset + index * sizeof(Elf64_Rela);
}

size_t ElfPatch::file_offset_of(uint64_t address) const {
    for (size_t index = 0; index < header().e_phnum; ++index) {
        Elf64_Phdr program = program_header(index);
        if (program.p_type == PT_LOAD && address >= program.p_vaddr &&
            address < program.p_vaddr + program.p_filesz) {
            return program.p_offset + (address - program.p_vaddr);
        }
    }
    return 0;
}

}  // namespace umka::test
