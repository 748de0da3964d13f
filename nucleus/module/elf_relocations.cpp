// Module ELF validation, part 3: relocations. A module is linked so that the only thing
// left for the loader is adding its load address to pointers in its relocated data
// (R_X86_64_RELATIVE); anything else means the module expects a dynamic linker.
#include "nucleus/module/elf_internal.h"

namespace umka::modules {
namespace elf {

const char* relocation_type_name(uint32_t type) {
    // x86-64 psABI, table "Relocation Types".
    static constexpr const char* kNames[] = {
        "R_X86_64_NONE",
        "R_X86_64_64",
        "R_X86_64_PC32",
        "R_X86_64_GOT32",
        "R_X86_64_PLT32",
        "R_X86_64_COPY",
        "R_X86_64_GLOB_DAT",
        "R_X86_64_JUMP_SLOT",
        "R_X86_64_RELATIVE",
        "R_X86_64_GOTPCREL",
        "R_X86_64_32",
        "R_X86_64_32S",
        "R_X86_64_16",
        "R_X86_64_PC16",
        "R_X86_64_8",
        "R_X86_64_PC8",
        "R_X86_64_DTPMOD64",
        "R_X86_64_DTPOFF64",
        "R_X86_64_TPOFF64",
        "R_X86_64_TLSGD",
        "R_X86_64_TLSLD",
        "R_X86_64_DTPOFF32",
        "R_X86_64_GOTTPOFF",
        "R_X86_64_TPOFF32",
        "R_X86_64_PC64",
        "R_X86_64_GOTOFF64",
        "R_X86_64_GOTPC32",
        "R_X86_64_GOT64",
        "R_X86_64_GOTPCREL64",
        "R_X86_64_GOTPC64",
        "R_X86_64_GOTPLT64",
        "R_X86_64_PLTOFF64",
        "R_X86_64_SIZE32",
        "R_X86_64_SIZE64",
        "R_X86_64_GOTPC32_TLSDESC",
        "R_X86_64_TLSDESC_CALL",
        "R_X86_64_TLSDESC",
        "R_X86_64_IRELATIVE",
        "R_X86_64_RELATIVE64",
        nullptr,  // 39 and 40 are unused
        nullptr,
        "R_X86_64_GOTPCRELX",
        "R_X86_64_REX_GOTPCRELX",
    };
    if (type < sizeof(kNames) / sizeof(kNames[0]) && kNames[type] != nullptr) return kNames[type];
    return "unknown";
}

}  // namespace elf

namespace detail {
namespace {

using namespace elf;

Errno refuse_relocation(const ElfFacts& facts, const RelocationWithAddend& relocation,
                        const char* why, Diagnostic& diagnostic) {
    uint32_t type = relocation_type(relocation.info);
    uint32_t symbol = relocation_symbol(relocation.info);
    if (symbol == 0) {
        return refuse(diagnostic, Errno::ExecFormat, "relocation type %u (%s) at offset 0x%lx%s",
                      type, relocation_type_name(type), relocation.offset, why);
    }
    char buffer[128];
    return refuse(diagnostic, Errno::ExecFormat,
                  "relocation type %u (%s) at offset 0x%lx against symbol '%s'%s", type,
                  relocation_type_name(type), relocation.offset,
                  dynamic_symbol_name(facts, symbol, buffer, sizeof(buffer)), why);
}

}  // namespace

Status check_relocations(ElfFacts& facts, Diagnostic& diagnostic) {
    ModuleLayout& layout = facts.layout;
    // PLT relocations: a call through the PLT or a GOT entry bound at run time. With no
    // dynamic linker there is nobody to fill them, so the table must be empty.
    if (facts.has_jump_relocations && facts.jump_relocations_size > 0) {
        uint64_t offset = 0;
        RelocationWithAddend first{};
        if (!file_offset_of(layout, facts.jump_relocations_address, sizeof(first), offset) ||
            !facts.file.read(offset, first)) {
            return refuse(diagnostic, Errno::ExecFormat,
                          "DT_JMPREL holds %lu bytes of PLT relocations (table outside the file)",
                          facts.jump_relocations_size);
        }
        return refuse_relocation(facts, first, " (DT_JMPREL must be empty: no PLT calls)",
                                 diagnostic);
    }
    if (!facts.has_rela) {
        if (facts.rela_size != 0) {
            return refuse(diagnostic, Errno::ExecFormat, "DT_RELASZ without DT_RELA");
        }
        layout.relocation_count = 0;
        return Status::ok();
    }
    if (facts.rela_entry_size != sizeof(RelocationWithAddend) ||
        facts.rela_size % sizeof(RelocationWithAddend) != 0) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "DT_RELAENT %lu / DT_RELASZ %lu: not whole 24-byte Elf64_Rela entries",
                      facts.rela_entry_size, facts.rela_size);
    }
    uint64_t table_offset = 0;
    if (facts.rela_size > 0 &&
        !file_offset_of(layout, facts.rela_address, facts.rela_size, table_offset)) {
        return refuse(diagnostic, Errno::ExecFormat,
                      "DT_RELA table (0x%lx bytes at 0x%lx) is not file-backed inside a PT_LOAD "
                      "segment",
                      facts.rela_size, facts.rela_address);
    }
    uint64_t count = facts.rela_size / sizeof(RelocationWithAddend);
    uint64_t image_end = layout.image_start + layout.image_size;
    for (uint64_t index = 0; index < count; ++index) {
        RelocationWithAddend relocation;
        facts.file.read(table_offset + index * sizeof(relocation), relocation);
        if (relocation_type(relocation.info) != kRelocationRelative) {
            return refuse_relocation(facts, relocation, " (only R_X86_64_RELATIVE is allowed)",
                                     diagnostic);
        }
        const LoadSegment* segment = segment_containing(layout, relocation.offset, 8);
        if (segment == nullptr) {
            return refuse_relocation(facts, relocation, " patches memory outside every segment",
                                     diagnostic);
        }
        if (!(segment->flags & kSegmentWrite)) {
            return refuse_relocation(
                facts, relocation, " patches a read-only segment (a text relocation)", diagnostic);
        }
        uint64_t target = uint64_t(relocation.addend);
        if (relocation.addend < 0 || target < layout.image_start || target > image_end) {
            return refuse_relocation(facts, relocation, " points outside the module image",
                                     diagnostic);
        }
    }
    layout.relocation_file_offset = table_offset;
    layout.relocation_count = count;
    return Status::ok();
}

void apply_relocations(const FileReader& file, const ModuleLayout& layout, uint8_t* base) {
    // base is where image_start landed; a link-time address A lives at base + (A - start).
    uint64_t bias = reinterpret_cast<uint64_t>(base) - layout.image_start;
    for (uint64_t index = 0; index < layout.relocation_count; ++index) {
        RelocationWithAddend relocation;
        file.read(layout.relocation_file_offset + index * sizeof(relocation), relocation);
        uint64_t value = bias + uint64_t(relocation.addend);
        __builtin_memcpy(base + (relocation.offset - layout.image_start), &value, sizeof(value));
    }
}

}  // namespace detail
}  // namespace umka::modules
