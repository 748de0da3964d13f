// umka-modcheck on modules built from test/data/modules (one per rule of DESIGN.md §5) and
// on byte-patched copies of the clean module. Every rule has a failing case; the clean
// module, plain and signed, passes.
#include <elf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "initramfs/tools/module_rules.h"
#include "test/host/crypto/tool_runner.h"

namespace umka::crypto {
namespace {

using test::read_bytes;
using test::run_tool;

std::string modcheck_tool() {
    return test::tool_path(UMKA_MODCHECK_TOOL, "UMKA_MODCHECK_TOOL");
}
using test::write_bytes;
using Bytes = std::vector<uint8_t>;

const std::string kModuleDir = UMKA_TEST_MODULE_DIR;

std::string module_path(const std::string& name) {
    return kModuleDir + "/" + name;
}

test::ToolResult modcheck(const std::string& path) {
    return run_tool(modcheck_tool(), {path});
}

// The line a violation must produce: "umka-modcheck: <file>: <rule>: ..." containing detail.
bool has_violation(const test::ToolResult& result, const std::string& path, const std::string& rule,
                   const std::vector<std::string>& details) {
    std::string prefix = "umka-modcheck: " + path + ": " + rule + ": ";
    size_t start = 0;
    while (start < result.output.size()) {
        size_t end = result.output.find('\n', start);
        if (end == std::string::npos) end = result.output.size();
        std::string line = result.output.substr(start, end - start);
        bool all = line.rfind(prefix, 0) == 0;
        for (const std::string& detail : details)
            all = all && line.find(detail) != std::string::npos;
        if (all) return true;
        start = end + 1;
    }
    return false;
}

bool has_violation(const test::ToolResult& result, const std::string& path, const std::string& rule,
                   const std::string& detail) {
    return has_violation(result, path, rule, std::vector<std::string>{detail});
}

// ELF64 little-endian field access on a module image, for the patched variants.
template <typename T>
T read_field(const Bytes& image, size_t offset) {
    T value;
    std::memcpy(&value, image.data() + offset, sizeof(T));
    return value;
}

template <typename T>
void write_field(Bytes& image, size_t offset, T value) {
    std::memcpy(image.data() + offset, &value, sizeof(T));
}

// File offset of a section's contents, found through the section header table.
size_t section_offset(const Bytes& image, const std::string& name) {
    auto header = read_field<Elf64_Ehdr>(image, 0);
    auto names =
        read_field<Elf64_Shdr>(image, header.e_shoff + header.e_shstrndx * sizeof(Elf64_Shdr));
    for (size_t index = 0; index < header.e_shnum; ++index) {
        auto section = read_field<Elf64_Shdr>(image, header.e_shoff + index * sizeof(Elf64_Shdr));
        const char* section_name =
            reinterpret_cast<const char*>(image.data() + names.sh_offset + section.sh_name);
        if (name == section_name) return section.sh_offset;
    }
    ADD_FAILURE() << "no section " << name;
    return 0;
}

// Sets PF_W on the executable PT_LOAD segment.
void make_text_writable(Bytes& image) {
    auto header = read_field<Elf64_Ehdr>(image, 0);
    for (size_t index = 0; index < header.e_phnum; ++index) {
        size_t offset = header.e_phoff + index * sizeof(Elf64_Phdr);
        auto segment = read_field<Elf64_Phdr>(image, offset);
        if (segment.p_type == PT_LOAD && (segment.p_flags & PF_X)) {
            write_field<uint32_t>(image, offset + offsetof(Elf64_Phdr, p_flags),
                                  segment.p_flags | PF_W);
            return;
        }
    }
    ADD_FAILURE() << "no executable PT_LOAD";
}

struct BadModule {
    const char* name;
    std::string module;  // built module file name under kModuleDir, or "" for patched
    std::function<void(Bytes&)> patch;  // applied to a copy of the clean module
    const char* rule;
    std::vector<std::string> details;  // all of them on one line of that rule
};

// Manifest field offsets (kabi_base.h umka_kabi_manifest_header).
constexpr size_t kManifestFormat = 4;
constexpr size_t kManifestName = 8;
constexpr size_t kManifestTransport = 60;
constexpr size_t kManifestMinTier = 61;
constexpr size_t kManifestTotalSize = 72;

const std::vector<BadModule>& bad_modules() {
    static const std::vector<BadModule> cases = {
        {"StaticCounterInBss",
         "modcheck_writable_bss.so",
         nullptr,
         tools::rule::kWritableData,
         {"section .bss (", "is writable data: `counter`"}},
        {"InitialisedGlobalInData",
         "modcheck_writable_data.so",
         nullptr,
         tools::rule::kWritableData,
         {"section .data (16 bytes) is writable data: `lookup_table`"}},
        {"UndefinedSymbol",
         "modcheck_undefined_symbol.so",
         nullptr,
         tools::rule::kUndefinedSymbol,
         {"`nucleus_private_function` is undefined"}},
        {"JumpSlotRelocation",
         "modcheck_undefined_symbol.so",
         nullptr,
         tools::rule::kRelocation,
         {"R_X86_64_JUMP_SLOT against `nucleus_private_function`"}},
        {"SymbolRelocation",
         "modcheck_symbol_relocation.so",
         nullptr,
         tools::rule::kRelocation,
         {"R_X86_64_64 against `exported_answer`"}},
        {"ThreadLocalSegment",
         "modcheck_thread_local_state.so",
         nullptr,
         tools::rule::kThreadLocal,
         {"PT_TLS segment"}},
        {"ThreadLocalSection",
         "modcheck_thread_local_state.so",
         nullptr,
         tools::rule::kThreadLocal,
         {"section .tdata (4 bytes) holds thread-local `per_thread_state`"}},
        {"Constructor",
         "modcheck_constructor.so",
         nullptr,
         tools::rule::kInitializer,
         {"section .init_array"}},
        {"NeededLibrary",
         "modcheck_needed.so",
         nullptr,
         tools::rule::kNeeded,
         {"DT_NEEDED ", "modcheck_needed_library.so"}},
        {"Interpreter",
         "modcheck_interpreter",
         nullptr,
         tools::rule::kInterpreter,
         {"PT_INTERP asks for program interpreter /lib64/ld-linux-x86-64.so.2"}},
        {"NoManifest",
         "modcheck_no_manifest.so",
         nullptr,
         tools::rule::kManifest,
         {"no .kabi_manifest section"}},
        {"Elf32Class",
         "",
         [](Bytes& image) { image[EI_CLASS] = ELFCLASS32; },
         tools::rule::kElfHeader,
         {"ELF class is 32-bit"}},
        {"BigEndian",
         "",
         [](Bytes& image) { image[EI_DATA] = ELFDATA2MSB; },
         tools::rule::kElfHeader,
         {"byte order is big-endian"}},
        {"WrongMachine",
         "",
         [](Bytes& image) {
             write_field<uint16_t>(image, offsetof(Elf64_Ehdr, e_machine), EM_386);
         },
         tools::rule::kElfHeader,
         {"machine is 3, not x86-64"}},
        {"ExecutableType",
         "",
         [](Bytes& image) { write_field<uint16_t>(image, offsetof(Elf64_Ehdr, e_type), ET_EXEC); },
         tools::rule::kElfHeader,
         {"type is ET_EXEC"}},
        {"NotElf",
         "",
         [](Bytes& image) { std::memcpy(image.data(), "#!/b", 4); },
         tools::rule::kElfHeader,
         {"not an ELF file"}},
        {"TruncatedHeader",
         "",
         [](Bytes& image) { image.resize(40); },
         tools::rule::kElfHeader,
         {"cannot parse as ELF (truncated or corrupt)"}},
        {"TruncatedSectionTable",
         "",
         [](Bytes& image) { image.resize(image.size() - 100); },
         tools::rule::kElfHeader,
         {"section header table (", "extends past the end of the file"}},
        {"EmptyFile",
         "",
         [](Bytes& image) { image.clear(); },
         tools::rule::kElfHeader,
         {"the file is empty"}},
        {"WritableAndExecutableSegment",
         "",
         make_text_writable,
         tools::rule::kWriteExecute,
         {"is both writable and executable"}},
        {"ManifestMagic",
         "",
         [](Bytes& image) { image[section_offset(image, ".kabi_manifest")] ^= 0xff; },
         tools::rule::kManifest,
         {"magic is 0x464d4baa, expected 0x464d4b55"}},
        {"ManifestFormat",
         "",
         [](Bytes& image) {
             write_field<uint16_t>(image, section_offset(image, ".kabi_manifest") + kManifestFormat,
                                   2);
         },
         tools::rule::kManifest,
         {"format is 2"}},
        {"ManifestTotalSize",
         "",
         [](Bytes& image) {
             write_field<uint32_t>(
                 image, section_offset(image, ".kabi_manifest") + kManifestTotalSize, 80);
         },
         tools::rule::kManifest,
         {"total_size is 80 but 1 provides, 0 requires, 0 states and 0 device matches take 184"}},
        {"ManifestNameUnterminated",
         "",
         [](Bytes& image) {
             std::memset(image.data() + section_offset(image, ".kabi_manifest") + kManifestName,
                         'x', 48);
         },
         tools::rule::kManifest,
         {"module name is not NUL-terminated"}},
        {"ManifestTransport",
         "",
         [](Bytes& image) {
             image[section_offset(image, ".kabi_manifest") + kManifestTransport] = 0;
         },
         tools::rule::kManifest,
         {"transport mask 0x00000000"}},
        {"ManifestTiers",
         "",
         [](Bytes& image) {
             image[section_offset(image, ".kabi_manifest") + kManifestMinTier] = 3;
         },
         tools::rule::kManifest,
         {"min_tier 3 is above max_tier 2"}},
        {"SignatureTrailerTruncated",
         "",
         [](Bytes& image) {
             Bytes signed_module = read_bytes(module_path("modcheck_clean.signed"));
             signed_module.erase(signed_module.begin() + 10);
             image = signed_module;
         },
         tools::rule::kSignature,
         {"signature trailer claims more bytes than the file has"}},
    };
    return cases;
}

// gtest prints parameters on failure; the case name says more than the struct's bytes.
void PrintTo(const BadModule& bad, std::ostream* stream) {
    *stream << bad.name;
}

class BadModuleTest : public ::testing::TestWithParam<BadModule> {};

TEST_P(BadModuleTest, FailsNamingTheCause) {
    const BadModule& bad = GetParam();
    std::string path;
    if (!bad.module.empty()) {
        path = module_path(bad.module);
    } else {
        Bytes image = read_bytes(module_path("modcheck_clean.so"));
        ASSERT_FALSE(image.empty());
        bad.patch(image);
        path = ::testing::TempDir() + "modcheck_" + bad.name;
        write_bytes(path, image);
    }
    test::ToolResult result = modcheck(path);
    EXPECT_EQ(result.exit_code, 1) << result.output;
    EXPECT_TRUE(has_violation(result, path, bad.rule, bad.details))
        << "expected \"" << bad.rule << ": ...\" with " << ::testing::PrintToString(bad.details)
        << " in:\n"
        << result.output;
    EXPECT_EQ(result.output.find(": ok: "), std::string::npos) << result.output;
}

INSTANTIATE_TEST_SUITE_P(Rules, BadModuleTest, ::testing::ValuesIn(bad_modules()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ModcheckCoverage, EveryRuleHasAFailingCase) {
    std::set<std::string> covered;
    for (const BadModule& bad : bad_modules()) covered.insert(bad.rule);
    for (const char* rule :
         {tools::rule::kElfHeader, tools::rule::kInterpreter, tools::rule::kNeeded,
          tools::rule::kUndefinedSymbol, tools::rule::kRelocation, tools::rule::kWritableData,
          tools::rule::kThreadLocal, tools::rule::kInitializer, tools::rule::kManifest,
          tools::rule::kWriteExecute, tools::rule::kSignature}) {
        EXPECT_TRUE(covered.count(rule)) << "no failing case for rule " << rule;
    }
}

TEST(Modcheck, CleanModulePasses) {
    std::string path = module_path("modcheck_clean.so");
    test::ToolResult result = modcheck(path);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(
        result.output.find("umka-modcheck: " + path + ": ok: module modcheck_clean version 1"),
        std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("2 R_X86_64_RELATIVE relocations, unsigned"), std::string::npos)
        << result.output;
}

TEST(Modcheck, SignedCleanModulePassesOnItsImage) {
    std::string path = module_path("modcheck_clean.signed");
    test::ToolResult result = modcheck(path);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("ok: module modcheck_clean version 1"), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("signed (trailer stripped"), std::string::npos) << result.output;
}

TEST(Modcheck, SeveralFilesReportEachAndFailIfAnyFails) {
    std::string clean = module_path("modcheck_clean.so");
    std::string bss = module_path("modcheck_writable_bss.so");
    test::ToolResult result = run_tool(modcheck_tool(), {clean, bss});
    EXPECT_EQ(result.exit_code, 1) << result.output;
    EXPECT_NE(result.output.find("umka-modcheck: " + clean + ": ok:"), std::string::npos);
    EXPECT_TRUE(has_violation(result, bss, tools::rule::kWritableData, "`counter`"));
}

TEST(Modcheck, MissingFileNamesIt) {
    test::ToolResult result = modcheck("/nonexistent/module.so");
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.output.find("umka-modcheck: /nonexistent/module.so: read: cannot open"),
              std::string::npos)
        << result.output;
}

TEST(Modcheck, DirectoriesAndDevicesAreRefusedWithoutReadingThem) {
    test::ToolResult device = modcheck("/dev/zero");
    EXPECT_EQ(device.exit_code, 1);
    EXPECT_NE(
        device.output.find(
            "umka-modcheck: /dev/zero: read: /dev/zero: not a regular file (a character device)"),
        std::string::npos)
        << device.output;
    test::ToolResult folder = modcheck(UMKA_TEST_MODULE_DIR);
    EXPECT_EQ(folder.exit_code, 1);
    EXPECT_NE(folder.output.find(std::string(UMKA_TEST_MODULE_DIR) + ": is a directory"),
              std::string::npos)
        << folder.output;
}

TEST(Modcheck, NoArgumentsIsAUsageError) {
    EXPECT_EQ(run_tool(modcheck_tool(), {}).exit_code, 2);
}

// The verdict is the nucleus loader's: a module whose only fault is a hidden entry point (a
// rule module_rules.cpp does not check) is refused with the loader's own message.
TEST(Modcheck, MissingEntryPointIsRefusedWithTheLoadersReason) {
    std::string path = UMKA_MISSING_ENTRY_MODULE;
    test::ToolResult result = modcheck(path);
    EXPECT_EQ(result.exit_code, 1) << result.output;
    EXPECT_TRUE(has_violation(result, path, tools::rule::kLoader,
                              "no exported function 'umka_module_entry' in .dynsym"))
        << result.output;
    EXPECT_EQ(result.output.find(": ok: "), std::string::npos) << result.output;
}

// The undefined-symbol module breaks two rules; both are reported, not just the first.
TEST(Modcheck, ReportsEveryViolationNotJustTheFirst) {
    std::string path = module_path("modcheck_undefined_symbol.so");
    test::ToolResult result = modcheck(path);
    EXPECT_TRUE(
        has_violation(result, path, tools::rule::kUndefinedSymbol, "nucleus_private_function"));
    EXPECT_TRUE(has_violation(result, path, tools::rule::kRelocation, "R_X86_64_JUMP_SLOT"));
}

}  // namespace
}  // namespace umka::crypto
