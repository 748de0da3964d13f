// The ELF64 structures and constants the module loader reads. Our own copy because a
// freestanding build has no <elf.h>; names follow the System V gABI and the x86-64 psABI.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace umka::modules::elf {

struct FileHeader {
    uint8_t identification[16];
    uint16_t type;
    uint16_t machine;
    uint32_t version;
    uint64_t entry;
    uint64_t program_header_offset;
    uint64_t section_header_offset;
    uint32_t flags;
    uint16_t header_size;
    uint16_t program_header_entry_size;
    uint16_t program_header_count;
    uint16_t section_header_entry_size;
    uint16_t section_header_count;
    uint16_t section_name_table_index;
};
static_assert(sizeof(FileHeader) == 64);

struct ProgramHeader {
    uint32_t type;
    uint32_t flags;
    uint64_t offset;
    uint64_t virtual_address;
    uint64_t physical_address;
    uint64_t file_size;
    uint64_t memory_size;
    uint64_t alignment;
};
static_assert(sizeof(ProgramHeader) == 56);

struct SectionHeader {
    uint32_t name;
    uint32_t type;
    uint64_t flags;
    uint64_t address;
    uint64_t offset;
    uint64_t size;
    uint32_t link;
    uint32_t info;
    uint64_t alignment;
    uint64_t entry_size;
};
static_assert(sizeof(SectionHeader) == 64);

struct Symbol {
    uint32_t name;
    uint8_t info;
    uint8_t other;
    uint16_t section_index;
    uint64_t value;
    uint64_t size;
};
static_assert(sizeof(Symbol) == 24);

struct DynamicEntry {
    int64_t tag;
    uint64_t value;
};
static_assert(sizeof(DynamicEntry) == 16);

struct RelocationWithAddend {
    uint64_t offset;
    uint64_t info;
    int64_t addend;
};
static_assert(sizeof(RelocationWithAddend) == 24);

// e_ident
inline constexpr uint8_t kMagic[4] = {0x7f, 'E', 'L', 'F'};
inline constexpr size_t kIdentClass = 4;
inline constexpr size_t kIdentData = 5;
inline constexpr size_t kIdentVersion = 6;
inline constexpr uint8_t kClass64 = 2;
inline constexpr uint8_t kDataLittleEndian = 1;
inline constexpr uint8_t kCurrentVersion = 1;

// e_type, e_machine
inline constexpr uint16_t kTypeShared = 3;  // ET_DYN
inline constexpr uint16_t kMachineX86_64 = 62;

// p_type
inline constexpr uint32_t kSegmentNull = 0;
inline constexpr uint32_t kSegmentLoad = 1;
inline constexpr uint32_t kSegmentDynamic = 2;
inline constexpr uint32_t kSegmentInterpreter = 3;
inline constexpr uint32_t kSegmentNote = 4;
inline constexpr uint32_t kSegmentSharedLibrary = 5;
inline constexpr uint32_t kSegmentProgramHeaders = 6;
inline constexpr uint32_t kSegmentThreadLocal = 7;
inline constexpr uint32_t kSegmentGnuEhFrame = 0x6474e550;
inline constexpr uint32_t kSegmentGnuStack = 0x6474e551;
inline constexpr uint32_t kSegmentGnuRelro = 0x6474e552;
inline constexpr uint32_t kSegmentGnuProperty = 0x6474e553;

// p_flags
inline constexpr uint32_t kSegmentExecute = 1;
inline constexpr uint32_t kSegmentWrite = 2;
inline constexpr uint32_t kSegmentRead = 4;

// sh_type
inline constexpr uint32_t kSectionNull = 0;
inline constexpr uint32_t kSectionProgramBits = 1;
inline constexpr uint32_t kSectionSymbolTable = 2;
inline constexpr uint32_t kSectionStringTable = 3;
inline constexpr uint32_t kSectionNoBits = 8;
inline constexpr uint32_t kSectionDynamicSymbols = 11;
inline constexpr uint32_t kSectionInitArray = 14;
inline constexpr uint32_t kSectionFiniArray = 15;
inline constexpr uint32_t kSectionPreinitArray = 16;

// sh_flags
inline constexpr uint64_t kSectionWrite = 0x1;
inline constexpr uint64_t kSectionAlloc = 0x2;
inline constexpr uint64_t kSectionExecute = 0x4;
inline constexpr uint64_t kSectionThreadLocal = 0x400;

// Section indices with special meaning.
inline constexpr uint16_t kSectionIndexUndefined = 0;
inline constexpr uint16_t kSectionIndexLowReserve = 0xff00;
inline constexpr uint16_t kSectionIndexExtended = 0xffff;
inline constexpr uint16_t kProgramHeaderCountExtended = 0xffff;

// d_tag
inline constexpr int64_t kDynamicNull = 0;
inline constexpr int64_t kDynamicNeeded = 1;
inline constexpr int64_t kDynamicPltRelocationSize = 2;
inline constexpr int64_t kDynamicRela = 7;
inline constexpr int64_t kDynamicRelaSize = 8;
inline constexpr int64_t kDynamicRelaEntrySize = 9;
inline constexpr int64_t kDynamicInit = 12;
inline constexpr int64_t kDynamicFini = 13;
inline constexpr int64_t kDynamicRel = 17;
inline constexpr int64_t kDynamicRelSize = 18;
inline constexpr int64_t kDynamicTextRelocations = 22;
inline constexpr int64_t kDynamicJumpRelocations = 23;
inline constexpr int64_t kDynamicInitArray = 25;
inline constexpr int64_t kDynamicFiniArray = 26;
inline constexpr int64_t kDynamicInitArraySize = 27;
inline constexpr int64_t kDynamicFiniArraySize = 28;
inline constexpr int64_t kDynamicFlags = 30;
inline constexpr int64_t kDynamicPreinitArray = 32;
inline constexpr int64_t kDynamicPreinitArraySize = 33;
inline constexpr int64_t kDynamicRelr = 36;
inline constexpr int64_t kDynamicAuxiliary = 0x7ffffffd;
inline constexpr int64_t kDynamicFilter = 0x7fffffff;

// DT_FLAGS bits
inline constexpr uint64_t kFlagTextRelocations = 0x4;
inline constexpr uint64_t kFlagStaticTls = 0x10;

// Symbols
inline constexpr uint8_t kBindLocal = 0;
inline constexpr uint8_t kBindGlobal = 1;
inline constexpr uint8_t kBindWeak = 2;
inline constexpr uint8_t kTypeNoType = 0;
inline constexpr uint8_t kTypeObject = 1;
inline constexpr uint8_t kTypeFunction = 2;
inline constexpr uint8_t kTypeSection = 3;
inline constexpr uint8_t kTypeFile = 4;
inline constexpr uint8_t kTypeThreadLocal = 6;
inline constexpr uint8_t kVisibilityDefault = 0;
inline constexpr uint8_t kVisibilityProtected = 3;

constexpr uint8_t symbol_binding(uint8_t info) {
    return info >> 4;
}
constexpr uint8_t symbol_type(uint8_t info) {
    return info & 0xf;
}
constexpr uint8_t symbol_visibility(uint8_t other) {
    return other & 0x3;
}

// x86-64 relocations
constexpr uint32_t relocation_type(uint64_t info) {
    return uint32_t(info & 0xffffffff);
}
constexpr uint32_t relocation_symbol(uint64_t info) {
    return uint32_t(info >> 32);
}
inline constexpr uint32_t kRelocationRelative = 8;  // R_X86_64_RELATIVE: base + addend

// The psABI's name for an x86-64 relocation type, for refusal messages.
const char* relocation_type_name(uint32_t type);

}  // namespace umka::modules::elf
