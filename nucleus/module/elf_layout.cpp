// Module ELF validation, part 1: the file header, the program headers (the image layout)
// and the dynamic section.
#include "nucleus/module/elf_internal.h"

namespace umka::modules::detail {
namespace {

using namespace elf;

// Virtual addresses above this are refused outright, so page arithmetic never overflows.
constexpr uint64_t kAddressLimit = uint64_t(1) << 40;

const char* segment_type_name(uint32_t type) {
    switch (type) {
    case kSegmentInterpreter:
        return "PT_INTERP";
    case kSegmentThreadLocal:
        return "PT_TLS";
    case kSegmentSharedLibrary:
        return "PT_SHLIB";
    default:
        return "?";
    }
}

const char* dynamic_tag_name(int64_t tag) {
    switch (tag) {
    case kDynamicNeeded:
        return "DT_NEEDED";
    case kDynamicInit:
        return "DT_INIT";
    case kDynamicFini:
        return "DT_FINI";
    case kDynamicRel:
        return "DT_REL";
    case kDynamicRelSize:
        return "DT_RELSZ";
    case kDynamicTextRelocations:
        return "DT_TEXTREL";
    case kDynamicInitArray:
        return "DT_INIT_ARRAY";
    case kDynamicFiniArray:
        return "DT_FINI_ARRAY";
    case kDynamicInitArraySize:
        return "DT_INIT_ARRAYSZ";
    case kDynamicFiniArraySize:
        return "DT_FINI_ARRAYSZ";
    case kDynamicPreinitArray:
        return "DT_PREINIT_ARRAY";
    case kDynamicPreinitArraySize:
        return "DT_PREINIT_ARRAYSZ";
    case kDynamicRelr:
        return "DT_RELR";
    case kDynamicAuxiliary:
        return "DT_AUXILIARY";
    case kDynamicFilter:
        return "DT_FILTER";
    default:
        return nullptr;
    }
}

// Why a refused dynamic tag is refused, for the message.
const char* dynamic_tag_reason(int64_t tag) {
    switch (tag) {
    case kDynamicInit:
    case kDynamicFini:
    case kDynamicInitArray:
    case kDynamicFiniArray:
    case kDynamicInitArraySize:
    case kDynamicFiniArraySize:
    case kDynamicPreinitArray:
    case kDynamicPreinitArraySize:
        return "modules have no constructors or destructors; umka_module_entry is the only entry";
    case kDynamicTextRelocations:
        return "text relocations would need writable code";
    case kDynamicRel:
    case kDynamicRelSize:
    case kDynamicRelr:
        return "only DT_RELA relocations are read";
    default:
        return "modules link against nothing";
    }
}

}  // namespace

const char* FileReader::string_at(uint64_t table_offset, uint64_t table_size,
                                  uint64_t index) const {
    if (!contains(table_offset, table_size) || index >= table_size) return nullptr;
    const char* text = reinterpret_cast<const char*>(data_ + table_offset + index);
    for (uint64_t position = index; position < table_size; ++position) {
        if (data_[table_offset + position] == 0) return text;
    }
    return nullptr;
}

const LoadSegment* segment_containing(const ModuleLayout& layout, uint64_t address,
                                      uint64_t length) {
    for (size_t index = 0; index < layout.segment_count; ++index) {
        const LoadSegment& segment = layout.segments[index];
        if (address >= segment.virtual_address && length <= segment.memory_size &&
            address - segment.virtual_address <= segment.memory_size - length) {
            return &segment;
        }
    }
    return nullptr;
}

bool file_offset_of(const ModuleLayout& layout, uint64_t address, uint64_t length,
                    uint64_t& offset) {
    for (size_t index = 0; index < layout.segment_count; ++index) {
        const LoadSegment& segment = layout.segments[index];
        if (address >= segment.virtual_address && length <= segment.file_size &&
            address - segment.virtual_address <= segment.file_size - length) {
            offset = segment.file_offset + (address - segment.virtual_address);
            return true;
        }
    }
    return false;
}

Status check_file_header(ElfFacts& facts, Diagnostic& diagnostic) {
    FileHeader& header = facts.header;
    if (!facts.file.read(0, header)) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "file is %zu bytes, shorter than the 64-byte ELF header", facts.file.size());
    }
    for (size_t index = 0; index < 4; ++index) {
        if (header.identification[index] != kMagic[index]) {
            return refuse(diagnostic, Errno::ExecFormat, "not an ELF file (bad magic)");
        }
    }
    if (header.identification[kIdentClass] != kClass64) {
        return refuse(diagnostic, Errno::ExecFormat, "ELF class %u is not ELFCLASS64",
                      unsigned(header.identification[kIdentClass]));
    }
    if (header.identification[kIdentData] != kDataLittleEndian) {
        return refuse(diagnostic, Errno::ExecFormat, "ELF data encoding %u is not little-endian",
                      unsigned(header.identification[kIdentData]));
    }
    if (header.identification[kIdentVersion] != kCurrentVersion || header.version != 1) {
        return refuse(diagnostic, Errno::ExecFormat, "ELF version %u is not EV_CURRENT",
                      unsigned(header.version));
    }
    if (header.machine != kMachineX86_64) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "e_machine %u is not EM_X86_64 (62): built for another architecture",
                      unsigned(header.machine));
    }
    if (header.type != kTypeShared) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "e_type %u is not ET_DYN (3): a module is a position-independent shared "
                      "object",
                      unsigned(header.type));
    }
    if (header.header_size != sizeof(FileHeader) ||
        header.program_header_entry_size != sizeof(ProgramHeader) ||
        header.section_header_entry_size != sizeof(SectionHeader)) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "ELF header sizes (e_ehsize %u, e_phentsize %u, e_shentsize %u) are not "
                      "64, 56, 64",
                      unsigned(header.header_size), unsigned(header.program_header_entry_size),
                      unsigned(header.section_header_entry_size));
    }
    if (header.program_header_count == 0 ||
        header.program_header_count == kProgramHeaderCountExtended) {
        return refuse(diagnostic, Errno::ExecFormat, "e_phnum %u: no usable program headers",
                      unsigned(header.program_header_count));
    }
    if (!facts.file.contains(header.program_header_offset,
                             uint64_t(header.program_header_count) * sizeof(ProgramHeader))) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "program header table (%u entries at 0x%lx) runs past the end of the "
                      "%zu-byte file",
                      unsigned(header.program_header_count), header.program_header_offset,
                      facts.file.size());
    }
    if (header.section_header_count == 0) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "no section headers: the loader needs them to find .kabi_manifest");
    }
    if (!facts.file.contains(header.section_header_offset,
                             uint64_t(header.section_header_count) * sizeof(SectionHeader))) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "section header table (%u entries at 0x%lx) runs past the end of the "
                      "%zu-byte file",
                      unsigned(header.section_header_count), header.section_header_offset,
                      facts.file.size());
    }
    if (header.section_name_table_index == kSectionIndexUndefined ||
        header.section_name_table_index >= header.section_header_count) {
        return refuse(
            diagnostic, Errno::ExecFormat, "e_shstrndx %u does not name one of the %u sections",
            unsigned(header.section_name_table_index), unsigned(header.section_header_count));
    }
    return Status::ok();
}

Status check_program_headers(ElfFacts& facts, Diagnostic& diagnostic) {
    ModuleLayout& layout = facts.layout;
    bool has_dynamic = false;
    for (uint16_t index = 0; index < facts.header.program_header_count; ++index) {
        ProgramHeader program;
        facts.file.read(facts.header.program_header_offset + uint64_t(index) * sizeof(program),
                        program);
        switch (program.type) {
        case kSegmentInterpreter:
        case kSegmentThreadLocal:
        case kSegmentSharedLibrary:
            return refuse(diagnostic, Errno::ExecFormat,
                          "program header %u is %s: modules have no interpreter and no "
                          "thread-local storage",
                          unsigned(index), segment_type_name(program.type));
        case kSegmentGnuStack:
            if (program.flags & kSegmentExecute) {
                return refuse(diagnostic, Errno::ExecFormat,
                              "PT_GNU_STACK asks for an executable stack");
            }
            continue;
        case kSegmentDynamic:
            if (has_dynamic) {
                return refuse(diagnostic, Errno::ExecFormat, "more than one PT_DYNAMIC");
            }
            has_dynamic = true;
            if (program.file_size % sizeof(DynamicEntry) != 0 ||
                !facts.file.contains(program.offset, program.file_size)) {
                return refuse(diagnostic, Errno::ExecFormat,
                              "PT_DYNAMIC (%lu bytes at 0x%lx) is not whole entries inside the "
                              "file",
                              program.file_size, program.offset);
            }
            facts.dynamic_offset = program.offset;
            facts.dynamic_count = program.file_size / sizeof(DynamicEntry);
            continue;
        case kSegmentLoad:
            break;
        default:
            continue;  // PT_NOTE, PT_PHDR, PT_GNU_RELRO, PT_GNU_EH_FRAME, ...: nothing to do
        }

        if (layout.segment_count == kMaximumLoadSegments) {
            return refuse(diagnostic, Errno::ExecFormat, "more than %zu PT_LOAD segments",
                          kMaximumLoadSegments);
        }
        if (program.memory_size == 0 && program.file_size == 0) {
            continue;  // linkers emit these for empty output sections; nothing to map
        }
        if (program.file_size > program.memory_size) {
            return refuse(diagnostic, Errno::ExecFormat,
                          "PT_LOAD segment %zu has p_filesz 0x%lx > p_memsz 0x%lx",
                          layout.segment_count, program.file_size, program.memory_size);
        }
        if (!facts.file.contains(program.offset, program.file_size)) {
            return refuse(diagnostic, Errno::ExecFormat,
                          "PT_LOAD segment %zu (0x%lx bytes at file offset 0x%lx) runs past the "
                          "end of the %zu-byte file",
                          layout.segment_count, program.file_size, program.offset,
                          facts.file.size());
        }
        if (program.virtual_address >= kAddressLimit ||
            program.memory_size >= kAddressLimit - program.virtual_address) {
            return refuse(diagnostic, Errno::ExecFormat,
                          "PT_LOAD segment %zu at 0x%lx (+0x%lx) lies beyond 0x%lx",
                          layout.segment_count, program.virtual_address, program.memory_size,
                          kAddressLimit);
        }
        if (program.virtual_address % kModulePageSize != program.offset % kModulePageSize) {
            return refuse(diagnostic, Errno::ExecFormat,
                          "PT_LOAD segment %zu: address 0x%lx and file offset 0x%lx differ "
                          "within a page",
                          layout.segment_count, program.virtual_address, program.offset);
        }
        if ((program.flags & kSegmentWrite) && (program.flags & kSegmentExecute)) {
            return refuse(diagnostic, Errno::ExecFormat,
                          "PT_LOAD segment %zu at 0x%lx is both writable and executable (W^X)",
                          layout.segment_count, program.virtual_address);
        }
        if (layout.segment_count > 0) {
            const LoadSegment& previous = layout.segments[layout.segment_count - 1];
            uint64_t previous_end = previous.virtual_address + previous.memory_size;
            if (page_down(program.virtual_address) < page_up(previous_end)) {
                return refuse(diagnostic, Errno::ExecFormat,
                              "PT_LOAD segment %zu at 0x%lx shares a page with, overlaps or "
                              "precedes segment %zu (ends 0x%lx)",
                              layout.segment_count, program.virtual_address,
                              layout.segment_count - 1, previous_end);
            }
        }
        layout.segments[layout.segment_count++] =
            LoadSegment{program.virtual_address, program.memory_size, program.offset,
                        program.file_size, program.flags};
        if (program.flags & kSegmentExecute) layout.text_size += program.memory_size;
    }

    if (layout.segment_count == 0) {
        return refuse(diagnostic, Errno::ExecFormat, "no PT_LOAD segment");
    }
    if (!has_dynamic) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "no PT_DYNAMIC: not a shared object as the module contract requires");
    }
    const LoadSegment& last = layout.segments[layout.segment_count - 1];
    layout.image_start = page_down(layout.segments[0].virtual_address);
    layout.image_size = page_up(last.virtual_address + last.memory_size) - layout.image_start;
    if (layout.image_size > kMaximumImageSize) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "image spans 0x%lx bytes, more than the 0x%lx a module may have",
                      layout.image_size, kMaximumImageSize);
    }
    return Status::ok();
}

Status check_dynamic_section(ElfFacts& facts, Diagnostic& diagnostic) {
    // Two passes: the string table first, so a refused DT_NEEDED can name its library.
    uint64_t string_address = 0;
    uint64_t string_size = 0;
    bool terminated = false;
    for (uint64_t index = 0; index < facts.dynamic_count; ++index) {
        DynamicEntry entry;
        facts.file.read(facts.dynamic_offset + index * sizeof(entry), entry);
        if (entry.tag == kDynamicNull) {
            terminated = true;
            break;
        }
        if (entry.tag == 5) string_address = entry.value;  // DT_STRTAB
        if (entry.tag == 10) string_size = entry.value;    // DT_STRSZ
    }
    if (!terminated) {
        return refuse(diagnostic, Errno::ExecFormat, "PT_DYNAMIC has no DT_NULL terminator");
    }
    uint64_t string_offset = 0;
    bool strings_readable =
        string_size > 0 && file_offset_of(facts.layout, string_address, string_size, string_offset);

    for (uint64_t index = 0; index < facts.dynamic_count; ++index) {
        DynamicEntry entry;
        facts.file.read(facts.dynamic_offset + index * sizeof(entry), entry);
        switch (entry.tag) {
        case kDynamicNull:
            return Status::ok();
        case kDynamicNeeded: {
            const char* library =
                strings_readable ? facts.file.string_at(string_offset, string_size, entry.value)
                                 : nullptr;
            return refuse(diagnostic, Errno::ExecFormat,
                          "DT_NEEDED '%s': modules link against nothing (no shared libraries)",
                          library ? library : "?");
        }
        case kDynamicRela:
            facts.has_rela = true;
            facts.rela_address = entry.value;
            break;
        case kDynamicRelaSize:
            facts.rela_size = entry.value;
            break;
        case kDynamicRelaEntrySize:
            facts.rela_entry_size = entry.value;
            break;
        case kDynamicJumpRelocations:
            facts.has_jump_relocations = true;
            facts.jump_relocations_address = entry.value;
            break;
        case kDynamicPltRelocationSize:
            facts.jump_relocations_size = entry.value;
            break;
        case kDynamicFlags:
            if (entry.value & (kFlagTextRelocations | kFlagStaticTls)) {
                return refuse(diagnostic, Errno::ExecFormat, "DT_FLAGS 0x%lx asks for %s",
                              entry.value,
                              (entry.value & kFlagTextRelocations) ? "text relocations (DF_TEXTREL)"
                                                                   : "static TLS (DF_STATIC_TLS)");
            }
            break;
        default:
            if (const char* name = dynamic_tag_name(entry.tag)) {
                return refuse(diagnostic, Errno::ExecFormat, "%s is present: %s", name,
                              dynamic_tag_reason(entry.tag));
            }
            break;  // hash tables, symbol and string tables, DT_FLAGS_1, DT_RELACOUNT, ...
        }
    }
    return Status::ok();
}

}  // namespace umka::modules::detail
