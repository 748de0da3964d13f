// The module ELF loader: every rule of the contract, each with a module that breaks it
// (built fixtures in test/module-fixtures/, or the good module patched byte by byte), the
// load itself (segments, relocations, protections) and robustness against garbage.
#include <elf.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "elf_patch.h"
#include "module_harness.h"
#include "nucleus/module/elf_format.h"
#include "nucleus/module/elf_module.h"

namespace {

using ::testing::HasSubstr;
using umka::Errno;
using umka::harness::MmapModuleMemory;
using umka::modules::Diagnostic;
using umka::modules::LoadedModule;
using umka::modules::ModuleLayout;
using umka::test::ElfPatch;

std::string fixture_path(const std::string& name) {
    return std::string(UMKA_MODULE_FIXTURE_DIR) + "/" + name + ".so";
}

std::vector<uint8_t> fixture(const std::string& name) {
    std::vector<uint8_t> bytes;
    std::string error;
    EXPECT_TRUE(umka::harness::read_file(fixture_path(name), bytes, &error)) << error;
    return bytes;
}

// Validation verdict: "" when accepted, else the reason (and the errno must be ENOEXEC).
std::string refusal(const std::vector<uint8_t>& bytes) {
    ModuleLayout layout;
    Diagnostic diagnostic;
    umka::Status status =
        umka::modules::validate_module(bytes.data(), bytes.size(), layout, diagnostic);
    if (status.is_ok()) return "";
    EXPECT_EQ(status.error(), Errno::ExecFormat) << diagnostic.text();
    EXPECT_FALSE(diagnostic.is_empty());
    return diagnostic.text();
}

// The permissions /proc/self/maps shows for the page at `address` ("r-xp", ...).
std::string page_permissions(const void* address) {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    uintptr_t target = reinterpret_cast<uintptr_t>(address);
    while (std::getline(maps, line)) {
        uintptr_t start = 0, end = 0;
        char permissions[5] = {};
        if (std::sscanf(line.c_str(), "%lx-%lx %4s", &start, &end, permissions) == 3 &&
            target >= start && target < end) {
            return permissions;
        }
    }
    return "unmapped";
}

// --- the good module ----------------------------------------------------------------

TEST(ElfLoader, GoodModuleValidates) {
    std::vector<uint8_t> bytes = fixture("counter_module");
    ModuleLayout layout;
    Diagnostic diagnostic;
    ASSERT_TRUE(
        umka::modules::validate_module(bytes.data(), bytes.size(), layout, diagnostic).is_ok())
        << diagnostic.text();
    EXPECT_GE(layout.segment_count, 2u);
    EXPECT_EQ(layout.image_start, 0u);
    EXPECT_EQ(layout.image_size % umka::modules::kModulePageSize, 0u);
    EXPECT_GT(layout.text_size, 0u);
    EXPECT_GT(layout.relocation_count, 0u);  // the Counter vtable's function pointers
    EXPECT_GT(layout.entry_address, 0u);
    EXPECT_EQ(layout.manifest_size, 448u);  // CounterModuleManifest
}

TEST(ElfLoader, LoadsRelocatesAndWriteProtects) {
    std::vector<uint8_t> bytes = fixture("counter_module");
    MmapModuleMemory memory;
    Diagnostic diagnostic;
    auto loaded =
        umka::modules::load_module(bytes.data(), bytes.size(), memory.memory(), diagnostic);
    ASSERT_TRUE(loaded.is_ok()) << diagnostic.text();
    const LoadedModule& module = loaded.value();
    EXPECT_EQ(memory.live_reservations(), 1u);
    EXPECT_TRUE(module.contains(reinterpret_cast<const void*>(module.entry), 1));
    EXPECT_TRUE(module.contains(module.manifest, module.manifest_size));
    EXPECT_STREQ(module.manifest_view.name(), "counter_module");
    EXPECT_EQ(module.manifest_view.required_count(), 2u);

    // Code is read-execute, everything else read-only: nothing writable is left.
    EXPECT_EQ(page_permissions(reinterpret_cast<const void*>(module.entry)), "r-xp");
    EXPECT_EQ(page_permissions(module.manifest), "r--p");
    for (size_t offset = 0; offset < module.size; offset += umka::modules::kModulePageSize) {
        std::string permissions = page_permissions(module.base + offset);
        EXPECT_EQ(permissions.find('w'), std::string::npos)
            << "page +" << offset << " " << permissions;
    }

    // What executes() accepts as a thread function is exactly the read-execute pages' code:
    // the entry point yes; the manifest, addresses around the image and null no.
    ASSERT_GT(module.executable_count, 0u);
    EXPECT_TRUE(module.executes(reinterpret_cast<const void*>(module.entry)));
    EXPECT_FALSE(module.executes(module.manifest));
    EXPECT_FALSE(module.executes(nullptr));
    EXPECT_FALSE(module.executes(module.base - 1));
    EXPECT_FALSE(module.executes(module.base + module.size));
    for (size_t index = 0; index < module.executable_count; ++index) {
        const uint8_t* first = module.base + module.executable[index].offset;
        const uint8_t* last = first + module.executable[index].length - 1;
        EXPECT_EQ(page_permissions(first), "r-xp");
        EXPECT_TRUE(module.executes(first));
        EXPECT_TRUE(module.executes(last));
    }

    // Every RELATIVE relocation now holds base + addend.
    ElfPatch elf(bytes);
    int relocations = elf.find_section(".rela.dyn");
    ASSERT_GE(relocations, 0);
    Elf64_Shdr table = elf.section(size_t(relocations));
    for (size_t offset = 0; offset < table.sh_size; offset += sizeof(Elf64_Rela)) {
        Elf64_Rela relocation = elf.read<Elf64_Rela>(table.sh_offset + offset);
        uint64_t value;
        std::memcpy(&value, module.base + relocation.r_offset, sizeof(value));
        EXPECT_EQ(value, reinterpret_cast<uint64_t>(module.base) + uint64_t(relocation.r_addend));
    }
    umka::modules::unload_module(module, memory.memory());
    EXPECT_EQ(memory.live_reservations(), 0u);
}

TEST(ElfLoader, LoadsFromAnUnalignedBuffer) {
    // Inside a cpio bundle a module is only 4-byte aligned; every read is a copy.
    std::vector<uint8_t> bytes = fixture("counter_module");
    for (size_t shift : {1u, 2u, 4u}) {
        std::vector<uint8_t> shifted(bytes.size() + shift);
        std::memcpy(shifted.data() + shift, bytes.data(), bytes.size());
        MmapModuleMemory memory;
        Diagnostic diagnostic;
        auto loaded = umka::modules::load_module(shifted.data() + shift, bytes.size(),
                                                 memory.memory(), diagnostic);
        ASSERT_TRUE(loaded.is_ok()) << "shift " << shift << ": " << diagnostic.text();
        umka::modules::unload_module(loaded.value(), memory.memory());
    }
}

TEST(ElfLoader, ReleasesEverythingWhenMemoryFails) {
    std::vector<uint8_t> bytes = fixture("counter_module");
    MmapModuleMemory memory;
    Diagnostic diagnostic;
    memory.fail_next_reserve();
    auto loaded =
        umka::modules::load_module(bytes.data(), bytes.size(), memory.memory(), diagnostic);
    ASSERT_TRUE(loaded.is_error());
    EXPECT_EQ(loaded.error(), Errno::OutOfMemory);
    EXPECT_THAT(diagnostic.text(), HasSubstr("no memory for the"));
    EXPECT_EQ(memory.live_reservations(), 0u);

    for (size_t calls : {0u, 1u}) {
        MmapModuleMemory failing;
        failing.fail_protect_after(calls);
        auto refused =
            umka::modules::load_module(bytes.data(), bytes.size(), failing.memory(), diagnostic);
        ASSERT_TRUE(refused.is_error());
        EXPECT_EQ(refused.error(), Errno::NotPermitted);
        EXPECT_THAT(diagnostic.text(), calls == 0 ? HasSubstr("write-protecting the")
                                                  : HasSubstr("executable failed"));
        EXPECT_EQ(failing.live_reservations(), 0u);
    }
}

// --- fixtures that each break one rule ---------------------------------------------------

struct FixtureCase {
    const char* fixture;
    const char* expected;  // substring of the reason
};

class BrokenFixture : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(BrokenFixture, IsRefusedNamingTheCulprit) {
    std::vector<uint8_t> bytes = fixture(GetParam().fixture);
    ASSERT_FALSE(bytes.empty());
    EXPECT_THAT(refusal(bytes), HasSubstr(GetParam().expected));
    MmapModuleMemory memory;
    Diagnostic diagnostic;
    auto loaded =
        umka::modules::load_module(bytes.data(), bytes.size(), memory.memory(), diagnostic);
    EXPECT_EQ(loaded.error(), Errno::ExecFormat);
    EXPECT_EQ(memory.live_reservations(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    ModuleFixtures, BrokenFixture,
    ::testing::Values(
        FixtureCase{"writable_bss_module", "writable section '.bss' holds 'counter'"},
        FixtureCase{"writable_data_module",
                    "writable section '.data' holds '(anonymous namespace)::boot_count'"},
        FixtureCase{"undefined_symbol_module", "undefined symbol 'external_helper'"},
        FixtureCase{"plt_call_module", "(R_X86_64_JUMP_SLOT) at offset 0x"},
        FixtureCase{"plt_call_module", "against symbol 'plt_helper' (DT_JMPREL must be empty"},
        FixtureCase{"absolute_pointer_module", "relocation type 1 (R_X86_64_64) at offset 0x"},
        FixtureCase{"absolute_pointer_module", "against symbol 'exported_scale'"},
        FixtureCase{"missing_manifest_module", "no .kabi_manifest section"},
        FixtureCase{"bad_manifest_module",
                    "bad .kabi_manifest: manifest counts (3 provides, 0 requires, 0 states, 0 "
                    "matches) need "
                    "392 bytes but the manifest holds 184"},
        FixtureCase{"missing_entry_module", "no exported function 'umka_module_entry' in .dynsym"},
        FixtureCase{"init_array_module", "section '.init_array' holds 1 constructor"},
        FixtureCase{"thread_local_module", "is PT_TLS"},
        FixtureCase{"truncated_header", "file is 40 bytes, shorter than the 64-byte ELF header"},
        FixtureCase{"wrong_machine", "e_machine 183 is not EM_X86_64 (62)"},
        FixtureCase{"truncated_file", "runs past the end of the"}),
    [](const ::testing::TestParamInfo<FixtureCase>& info) {
        return std::string(info.param.fixture) + "_" + std::to_string(info.index);
    });

// --- the good module patched to break one rule at a time ----------------------------------

class PatchedModule : public ::testing::Test {
protected:
    ElfPatch elf{fixture("counter_module")};
    std::string verdict() { return refusal(elf.bytes()); }
};

TEST_F(PatchedModule, UnpatchedIsAccepted) {
    EXPECT_EQ(verdict(), "");
}

TEST_F(PatchedModule, HeaderIdentity) {
    Elf64_Ehdr header = elf.header();
    header.e_ident[EI_MAG1] = 'X';
    elf.set_header(header);
    EXPECT_EQ(verdict(), "not an ELF file (bad magic)");
    header = ElfPatch(fixture("counter_module")).header();
    header.e_ident[EI_CLASS] = ELFCLASS32;
    elf.set_header(header);
    EXPECT_EQ(verdict(), "ELF class 1 is not ELFCLASS64");
    header.e_ident[EI_CLASS] = ELFCLASS64;
    header.e_ident[EI_DATA] = ELFDATA2MSB;
    elf.set_header(header);
    EXPECT_EQ(verdict(), "ELF data encoding 2 is not little-endian");
    header.e_ident[EI_DATA] = ELFDATA2LSB;
    header.e_version = 2;
    elf.set_header(header);
    EXPECT_EQ(verdict(), "ELF version 2 is not EV_CURRENT");
    header.e_version = EV_CURRENT;
    header.e_type = ET_EXEC;
    elf.set_header(header);
    EXPECT_THAT(verdict(), HasSubstr("e_type 2 is not ET_DYN (3)"));
    header.e_type = ET_DYN;
    header.e_phentsize = 32;
    elf.set_header(header);
    EXPECT_THAT(verdict(), HasSubstr("e_phentsize 32"));
}

TEST_F(PatchedModule, HeaderTables) {
    Elf64_Ehdr good = elf.header();
    Elf64_Ehdr header = good;
    header.e_phoff = elf.bytes().size() - 8;
    elf.set_header(header);
    EXPECT_THAT(verdict(), HasSubstr("program header table"));
    header = good;
    header.e_phnum = 0;
    elf.set_header(header);
    EXPECT_EQ(verdict(), "e_phnum 0: no usable program headers");
    header = good;
    header.e_shoff = uint64_t(1) << 62;
    elf.set_header(header);
    EXPECT_THAT(verdict(), HasSubstr("section header table"));
    header = good;
    header.e_shnum = 0;
    elf.set_header(header);
    EXPECT_EQ(verdict(), "no section headers: the loader needs them to find .kabi_manifest");
    header = good;
    header.e_shstrndx = good.e_shnum;
    elf.set_header(header);
    EXPECT_THAT(verdict(), HasSubstr("e_shstrndx"));
}

TEST_F(PatchedModule, WritableAndExecutableSegment) {
    int text = elf.find_program_header(PT_LOAD, PF_R | PF_X);
    ASSERT_GE(text, 0);
    Elf64_Phdr program = elf.program_header(size_t(text));
    program.p_flags |= PF_W;
    elf.set_program_header(size_t(text), program);
    EXPECT_THAT(verdict(), HasSubstr("is both writable and executable (W^X)"));
}

TEST_F(PatchedModule, InterpreterAndExecutableStack) {
    int stack = elf.find_program_header(PT_GNU_STACK);
    ASSERT_GE(stack, 0);
    Elf64_Phdr program = elf.program_header(size_t(stack));
    program.p_flags |= PF_X;
    elf.set_program_header(size_t(stack), program);
    EXPECT_EQ(verdict(), "PT_GNU_STACK asks for an executable stack");
    program.p_type = PT_INTERP;
    elf.set_program_header(size_t(stack), program);
    EXPECT_THAT(verdict(), HasSubstr("is PT_INTERP"));
}

TEST_F(PatchedModule, SegmentLayout) {
    int text = elf.find_program_header(PT_LOAD, PF_R | PF_X);
    Elf64_Phdr good = elf.program_header(size_t(text));
    Elf64_Phdr program = good;
    program.p_vaddr += 8;
    elf.set_program_header(size_t(text), program);
    EXPECT_THAT(verdict(), HasSubstr("differ within a page"));
    program = good;
    program.p_vaddr -= 0x1000;  // shares the first segment's page
    program.p_offset -= 0x1000;
    elf.set_program_header(size_t(text), program);
    EXPECT_THAT(verdict(), HasSubstr("shares a page with, overlaps or precedes"));
    program = good;
    program.p_filesz = program.p_memsz + 1;
    elf.set_program_header(size_t(text), program);
    EXPECT_THAT(verdict(), HasSubstr("p_filesz"));
    program = good;
    program.p_offset = elf.bytes().size();
    program.p_vaddr = program.p_offset + 0x100000;
    elf.set_program_header(size_t(text), program);
    EXPECT_THAT(verdict(), HasSubstr("runs past the end"));
    program = good;
    program.p_memsz = uint64_t(1) << 30;
    elf.set_program_header(size_t(text), program);
    EXPECT_THAT(verdict(), HasSubstr("shares a page with"));  // now overlaps the next one
}

TEST_F(PatchedModule, NoDynamicSegment) {
    int dynamic = elf.find_program_header(PT_DYNAMIC);
    Elf64_Phdr program = elf.program_header(size_t(dynamic));
    program.p_type = PT_NOTE;
    elf.set_program_header(size_t(dynamic), program);
    EXPECT_THAT(verdict(), HasSubstr("no PT_DYNAMIC"));
}

TEST_F(PatchedModule, RefusedDynamicTags) {
    size_t flags = elf.find_dynamic(DT_FLAGS);
    ASSERT_NE(flags, 0u);
    Elf64_Dyn entry = elf.read<Elf64_Dyn>(flags);
    const Elf64_Dyn original = entry;

    entry.d_tag = DT_NEEDED;
    entry.d_un.d_val = 1;  // .dynstr offset 1: the first name in it
    elf.write(flags, entry);
    EXPECT_THAT(verdict(), HasSubstr("DT_NEEDED '"));
    EXPECT_THAT(verdict(), HasSubstr("modules link against nothing"));

    for (auto [tag, name] :
         {std::pair{int64_t(DT_TEXTREL), "DT_TEXTREL"}, std::pair{int64_t(DT_INIT), "DT_INIT"},
          std::pair{int64_t(DT_FINI_ARRAY), "DT_FINI_ARRAY"}, std::pair{int64_t(DT_REL), "DT_REL"},
          std::pair{int64_t(36), "DT_RELR"}}) {
        entry = original;
        entry.d_tag = tag;
        elf.write(flags, entry);
        EXPECT_THAT(verdict(), HasSubstr(std::string(name) + " is present")) << name;
    }
    entry = original;
    entry.d_un.d_val = DF_TEXTREL;
    elf.write(flags, entry);
    EXPECT_THAT(verdict(), HasSubstr("text relocations (DF_TEXTREL)"));
}

TEST_F(PatchedModule, DynamicWithoutTerminator) {
    for (size_t offset : elf.dynamic_entries()) {
        Elf64_Dyn entry = elf.read<Elf64_Dyn>(offset);
        if (entry.d_tag == DT_NULL) {
            entry.d_tag = DT_DEBUG;
            elf.write(offset, entry);
        }
    }
    // Every remaining slot of PT_DYNAMIC too (the segment is padded with DT_NULLs).
    int dynamic = elf.find_program_header(PT_DYNAMIC);
    Elf64_Phdr program = elf.program_header(size_t(dynamic));
    for (size_t offset = program.p_offset; offset < program.p_offset + program.p_filesz;
         offset += sizeof(Elf64_Dyn)) {
        Elf64_Dyn entry = elf.read<Elf64_Dyn>(offset);
        if (entry.d_tag == DT_NULL) {
            entry.d_tag = DT_DEBUG;
            elf.write(offset, entry);
        }
    }
    EXPECT_EQ(verdict(), "PT_DYNAMIC has no DT_NULL terminator");
}

TEST_F(PatchedModule, RelocationTypeTargetAndAddend) {
    size_t first = elf.relocation_offset(0);
    ASSERT_NE(first, 0u);
    Elf64_Rela good = elf.read<Elf64_Rela>(first);
    Elf64_Rela relocation = good;
    relocation.r_info = ELF64_R_INFO(1, R_X86_64_64);  // symbol 1: umka_module_entry
    elf.write(first, relocation);
    char expected[160];
    std::snprintf(expected, sizeof(expected),
                  "relocation type 1 (R_X86_64_64) at offset 0x%lx against symbol "
                  "'umka_module_entry' (only R_X86_64_RELATIVE is allowed)",
                  good.r_offset);
    EXPECT_EQ(verdict(), expected);

    relocation = good;
    relocation.r_info = ELF64_R_INFO(0, 42);
    elf.write(first, relocation);
    EXPECT_THAT(verdict(), HasSubstr("relocation type 42 (R_X86_64_REX_GOTPCRELX)"));

    relocation = good;
    relocation.r_info = ELF64_R_INFO(0, 77);
    elf.write(first, relocation);
    EXPECT_THAT(verdict(), HasSubstr("relocation type 77 (unknown)"));

    relocation = good;
    relocation.r_offset =
        elf.read<Elf64_Sym>(elf.find_dynamic_symbol("umka_module_entry")).st_value;
    elf.write(first, relocation);
    EXPECT_THAT(verdict(), HasSubstr("patches a read-only segment (a text relocation)"));

    relocation = good;
    relocation.r_offset = 0x7000000;
    elf.write(first, relocation);
    EXPECT_THAT(verdict(), HasSubstr("patches memory outside every segment"));

    relocation = good;
    relocation.r_addend = 0x10000000;
    elf.write(first, relocation);
    EXPECT_THAT(verdict(), HasSubstr("points outside the module image"));
    relocation.r_addend = -8;
    elf.write(first, relocation);
    EXPECT_THAT(verdict(), HasSubstr("points outside the module image"));
}

TEST_F(PatchedModule, NonEmptyJumpRelocations) {
    // Turn DT_FLAGS/DT_FLAGS_1 into DT_JMPREL/DT_PLTRELSZ over the existing RELA table.
    size_t rela = elf.find_dynamic(DT_RELA);
    size_t flags = elf.find_dynamic(DT_FLAGS);
    size_t flags1 = elf.find_dynamic(DT_FLAGS_1);
    ASSERT_TRUE(rela && flags && flags1);
    elf.write(flags, Elf64_Dyn{DT_JMPREL, {elf.read<Elf64_Dyn>(rela).d_un.d_val}});
    elf.write(flags1, Elf64_Dyn{DT_PLTRELSZ, {sizeof(Elf64_Rela)}});
    EXPECT_THAT(verdict(), HasSubstr("(R_X86_64_RELATIVE) at offset 0x"));
    EXPECT_THAT(verdict(), HasSubstr("(DT_JMPREL must be empty: no PLT calls)"));
}

TEST_F(PatchedModule, RelocationTableShape) {
    size_t entry_size = elf.find_dynamic(DT_RELAENT);
    elf.write(entry_size, Elf64_Dyn{DT_RELAENT, {16}});
    EXPECT_THAT(verdict(), HasSubstr("not whole 24-byte Elf64_Rela entries"));
    elf.write(entry_size, Elf64_Dyn{DT_RELAENT, {24}});
    size_t table = elf.find_dynamic(DT_RELA);
    elf.write(table, Elf64_Dyn{DT_RELA, {0x7000000}});
    EXPECT_THAT(verdict(), HasSubstr("DT_RELA table"));
}

TEST_F(PatchedModule, EntrySymbol) {
    size_t entry = elf.find_dynamic_symbol("umka_module_entry");
    ASSERT_NE(entry, 0u);
    Elf64_Sym good = elf.read<Elf64_Sym>(entry);
    Elf64_Sym symbol = good;
    symbol.st_other = STV_HIDDEN;
    elf.write(entry, symbol);
    EXPECT_THAT(verdict(), HasSubstr("'umka_module_entry' is not an exported function"));
    symbol = good;
    symbol.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT);
    elf.write(entry, symbol);
    EXPECT_THAT(verdict(), HasSubstr("is not an exported function (type 1"));
    symbol = good;
    int manifest = elf.find_section(".kabi_manifest");
    symbol.st_value = elf.section(size_t(manifest)).sh_addr;
    elf.write(entry, symbol);
    EXPECT_THAT(verdict(), HasSubstr("is not inside an executable segment"));
    symbol = good;
    symbol.st_shndx = SHN_UNDEF;
    elf.write(entry, symbol);
    EXPECT_EQ(verdict(),
              "undefined symbol 'umka_module_entry': modules reach everything through vtables "
              "handed to umka_module_entry");
}

TEST_F(PatchedModule, ManifestSection) {
    int index = elf.find_section(".kabi_manifest");
    ASSERT_GE(index, 0);
    Elf64_Shdr good = elf.section(size_t(index));
    elf.write<uint32_t>(good.sh_offset, 0xdeadbeef);
    EXPECT_EQ(verdict(),
              "bad .kabi_manifest: manifest magic 0xdeadbeef is not 0x464d4b55 (\"UKMF\")");
    elf = ElfPatch(fixture("counter_module"));
    Elf64_Shdr section = good;
    section.sh_flags |= SHF_WRITE;
    elf.set_section(size_t(index), section);
    EXPECT_THAT(verdict(), HasSubstr(".kabi_manifest must be allocated, read-only"));
    section = good;
    section.sh_size -= 4;
    elf.set_section(size_t(index), section);
    EXPECT_THAT(verdict(),
                HasSubstr("manifest total_size 448 does not match its section size 444"));
    section = good;
    section.sh_offset += 4;  // file bytes no longer what gets loaded at sh_addr
    elf.set_section(size_t(index), section);
    EXPECT_THAT(verdict(), HasSubstr("is not file-backed inside a read-only PT_LOAD"));
}

TEST_F(PatchedModule, SectionOutsideSegmentsOrFile) {
    int index = elf.find_section(".rodata");
    ASSERT_GE(index, 0);
    Elf64_Shdr good = elf.section(size_t(index));
    Elf64_Shdr section = good;
    section.sh_addr = 0x6000000;
    elf.set_section(size_t(index), section);
    EXPECT_THAT(verdict(), HasSubstr("allocated section '.rodata' at 0x6000000"));
    section = good;
    section.sh_offset = elf.bytes().size();
    elf.set_section(size_t(index), section);
    EXPECT_THAT(verdict(), HasSubstr("section '.rodata'"));
    EXPECT_THAT(verdict(), HasSubstr("runs past the end of the file"));
}

TEST_F(PatchedModule, WritableSectionWithoutSymbol) {
    // Relabel .data.rel.ro as .data: its bytes are a writable global now.
    int index = elf.find_section(".data.rel.ro");
    ASSERT_GE(index, 0);
    Elf64_Shdr names = elf.section(elf.header().e_shstrndx);
    Elf64_Shdr section = elf.section(size_t(index));
    // ".data.rel.ro" -> ".data" by ending the name early.
    elf.bytes()[names.sh_offset + section.sh_name + 5] = '\0';
    EXPECT_THAT(verdict(), HasSubstr("writable section '.data' holds"));
}

// --- garbage -----------------------------------------------------------------------------

// Every prefix of a good module is refused (the section table is at the end), never read
// past: ASan checks each read.
TEST(ElfLoaderRobustness, EveryTruncationIsRefused) {
    std::vector<uint8_t> bytes = fixture("counter_module");
    for (size_t length = 0; length < bytes.size(); length += (length < 4096 ? 1 : 61)) {
        std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + long(length));
        EXPECT_NE(refusal(prefix), "") << "length " << length;
    }
}

// Single-byte corruptions anywhere in the headers and tables: accepted or refused, never a
// crash; what is accepted loads and unloads cleanly.
TEST(ElfLoaderRobustness, SingleByteCorruptions) {
    const std::vector<uint8_t> good = fixture("counter_module");
    ElfPatch elf(good);
    std::vector<std::pair<size_t, size_t>> ranges = {
        {0, 0x300}, {size_t(elf.header().e_shoff), good.size() - size_t(elf.header().e_shoff)}};
    size_t accepted = 0, refused = 0;
    for (auto [start, length] : ranges) {
        for (size_t offset = start; offset < start + length && offset < good.size(); ++offset) {
            for (uint8_t value : {uint8_t(0), uint8_t(0xff), uint8_t(good[offset] ^ 0x10)}) {
                std::vector<uint8_t> bytes = good;
                bytes[offset] = value;
                MmapModuleMemory memory;
                Diagnostic diagnostic;
                auto loaded = umka::modules::load_module(bytes.data(), bytes.size(),
                                                         memory.memory(), diagnostic);
                if (loaded.is_ok()) {
                    ++accepted;
                    umka::modules::unload_module(loaded.value(), memory.memory());
                } else {
                    ++refused;
                    EXPECT_FALSE(diagnostic.is_empty());
                }
                EXPECT_EQ(memory.live_reservations(), 0u);
            }
        }
    }
    EXPECT_GT(refused, 0u);
    EXPECT_GT(accepted, 0u);  // padding and unused fields do not matter
}

TEST(ElfLoaderRobustness, NullAndEmpty) {
    EXPECT_EQ(refusal({}), "file is 0 bytes, shorter than the 64-byte ELF header");
    ModuleLayout layout;
    Diagnostic diagnostic;
    EXPECT_EQ(umka::modules::validate_module(nullptr, 100, layout, diagnostic).error(),
              Errno::ExecFormat);
}

}  // namespace
