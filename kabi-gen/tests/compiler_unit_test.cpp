// Unit tests of kabi-gen's own pieces: lexer, parser, layout rules, diagnostics format,
// naming, imports, the ring adapter table's selection. End-to-end behaviour is covered by
// the golden/diagnostic/compat runs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "compat.h"
#include "diagnostics.h"
#include "emitters.h"
#include "lexer.h"
#include "naming.h"
#include "parser.h"
#include "semantic.h"
#include "workspace.h"

namespace {

const kabi::File* check(kabi::Workspace& workspace, const std::string& text) {
    return workspace.load_text("test.kabi", text);
}

TEST(Lexer, TokensCarryLineColumnAndDoc) {
    kabi::DiagnosticSink sink;
    auto tokens = kabi::tokenize("x.kabi", "/// doc one\n/// doc two\nstruct  A 0x1_0 ->", sink);
    ASSERT_EQ(tokens.size(), 5u);
    EXPECT_EQ(tokens[0].text, "struct");
    EXPECT_EQ(tokens[0].doc, "doc one\ndoc two");
    EXPECT_EQ(tokens[0].location.line, 3u);
    EXPECT_EQ(tokens[1].location.column, 9u);
    EXPECT_EQ(tokens[2].value, 16u);
    EXPECT_EQ(tokens[3].kind, kabi::TokenKind::Arrow);
    EXPECT_EQ(tokens[4].kind, kabi::TokenKind::EndOfFile);
    EXPECT_FALSE(sink.has_errors());
}

TEST(Lexer, ReportsBadCharactersAndKeepsGoing) {
    kabi::DiagnosticSink sink;
    auto tokens = kabi::tokenize("x.kabi", "a $ b 99999999999999999999", sink);
    EXPECT_EQ(sink.error_count(), 2u);
    EXPECT_EQ(sink.diagnostics()[0].code, "unexpected-character");
    EXPECT_EQ(sink.diagnostics()[1].code, "bad-integer");
    ASSERT_GE(tokens.size(), 3u);
    EXPECT_EQ(tokens[1].text, "b");
}

TEST(Parser, RecoversAndReportsEveryBrokenDeclaration) {
    kabi::DiagnosticSink sink;
    auto file = kabi::parse_file("x.kabi",
                                 "package x version 1;\n"
                                 "struct A size 4 align 4 { a u32; }\n"
                                 "enum B : u8 { One = 1, }\n"
                                 "vtable C version 1 { @0 f( -> status since 1; }\n"
                                 "handle D;\n",
                                 sink);
    EXPECT_EQ(sink.error_count(), 2u);
    EXPECT_EQ(file->enums.size(), 1u);
    EXPECT_EQ(file->handles.size(), 1u);
}

TEST(Semantic, ComputesOffsetsAndRejectsImplicitPadding) {
    kabi::DiagnosticSink sink;
    kabi::Workspace workspace(sink, {});
    const kabi::File* file =
        check(workspace,
              "package test version 1;\n"
              "struct A size 16 align 8 { a: u32; b: u16; c: u8[2]; d: u64; }\n"
              "struct B size 16 align 8 { a: u32; d: u64; }\n");
    ASSERT_NE(file, nullptr);
    EXPECT_EQ(file->structs[0].fields[3].offset, 8u);
    ASSERT_EQ(sink.error_count(), 1u);
    const kabi::Diagnostic& diagnostic = sink.diagnostics()[0];
    EXPECT_EQ(diagnostic.code, "implicit-padding");
    EXPECT_EQ(diagnostic.location.line, 3u);
    EXPECT_EQ(diagnostic.location.column, 36u);
    EXPECT_NE(diagnostic.fix.find("reserved_4: u8[4];"), std::string::npos);
}

TEST(Diagnostics, RenderQuotesTheLineUnderlinesAndSuggests) {
    kabi::DiagnosticSink sink;
    kabi::Workspace workspace(sink, {});
    check(workspace, "package test version 1;\nstruct A size 4 align 4 { a: u23; }\n");
    std::string text = sink.render_all();
    EXPECT_NE(text.find("test.kabi:2:30: error[unknown-type]: unknown type 'u23'"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("    struct A size 4 align 4 { a: u23; }\n"), std::string::npos) << text;
    EXPECT_NE(text.find("^~~\n"), std::string::npos) << text;
    EXPECT_NE(text.find("fix: did you mean 'u32'?"), std::string::npos) << text;
}

TEST(Semantic, RingRecordSizes) {
    kabi::DiagnosticSink sink;
    kabi::Workspace workspace(sink, {});
    const kabi::File* file =
        check(workspace,
              "package test version 1;\n"
              "struct S size 24 align 8 { a: u64; b: u64; c: u64; }\n"
              "vtable V version 1 {\n"
              "  @0 f(x: u8, data: bytes, in s: S, out o: u32, inout io: u16) -> u64 since 1;\n"
              "}\n");
    ASSERT_FALSE(sink.has_errors()) << sink.render_all();
    kabi::RingRecordSizes sizes = kabi::ring_record_sizes(file->vtables[0].methods[0]);
    EXPECT_EQ(sizes.request, 8u + 16u + 24u + 8u);  // u8 padded, span, S, u16 padded to 8
    EXPECT_EQ(sizes.completion, 16u);               // u32 + u16 + pad + u64
}

TEST(Semantic, StateStepsAppendOnlyOrBreaking) {
    kabi::DiagnosticSink sink;
    kabi::Workspace workspace(sink, {});
    const kabi::File* file = check(workspace,
                                   "package test version 1;\n"
                                   "state S version 3 {\n"
                                   "  a: u64 since 1; b: u64 since 1 removed 3; c: u64 since 2;\n"
                                   "  migrate from 2;\n"
                                   "}\n");
    ASSERT_FALSE(sink.has_errors()) << sink.render_all();
    const kabi::StateDecl& state = file->states[0];
    EXPECT_FALSE(kabi::state_step_is_breaking(state, 2));
    EXPECT_TRUE(kabi::state_step_is_breaking(state, 3));
    EXPECT_EQ(kabi::state_layout(state, 1).size, 16u);
    EXPECT_EQ(kabi::state_layout(state, 2).size, 24u);
    EXPECT_EQ(kabi::state_layout(state, 3).size, 16u);
}

TEST(Naming, CaseConversions) {
    EXPECT_EQ(kabi::to_snake_case("BlockDevice"), "block_device");
    EXPECT_EQ(kabi::to_snake_case("PCIBus"), "pci_bus");
    EXPECT_EQ(kabi::to_snake_case("MsiX"), "msi_x");
    EXPECT_EQ(kabi::to_upper_case("Below4g"), "BELOW4G");
    EXPECT_EQ(kabi::to_camel_case("get_geometry"), "GetGeometry");
}

TEST(Diagnostics, ClosestNameFindsTyposOnly) {
    EXPECT_EQ(kabi::closest_name("EOI", {"EIO", "ENOENT"}), "EIO");
    EXPECT_EQ(kabi::closest_name("completely", {"EIO", "ENOENT"}), "");
}

class TempDirectory {
public:
    TempDirectory() {
        path_ = std::filesystem::temp_directory_path() /
                ("kabi_unit_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                 "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDirectory() { std::filesystem::remove_all(path_); }
    std::string write(const std::string& name, const std::string& text) {
        std::ofstream(path_ / name) << text;
        return (path_ / name).string();
    }

private:
    std::filesystem::path path_;
};

TEST(Workspace, ResolvesImportsAndQualifiedTypes) {
    TempDirectory directory;
    directory.write("base.kabi", "package base version 1;\nhandle H;\n");
    std::string top = directory.write("top.kabi",
                                      "package top version 1;\nimport base;\n"
                                      "struct S size 8 align 8 { h: base.H; }\n");
    kabi::DiagnosticSink sink;
    kabi::Workspace workspace(sink, {});
    const kabi::File* file = workspace.load(top);
    ASSERT_NE(file, nullptr);
    EXPECT_FALSE(sink.has_errors()) << sink.render_all();
    EXPECT_EQ(workspace.files().size(), 2u);
    EXPECT_EQ(workspace.files()[0]->package, "base");  // imports come first
    EXPECT_EQ(file->structs[0].fields[0].type.owner->package, "base");
}

TEST(Workspace, ReportsImportCycles) {
    TempDirectory directory;
    std::string a = directory.write("a.kabi", "package a version 1;\nimport b;\n");
    directory.write("b.kabi", "package b version 1;\nimport a;\n");
    kabi::DiagnosticSink sink;
    kabi::Workspace workspace(sink, {});
    workspace.load(a);
    ASSERT_TRUE(sink.has_errors());
    EXPECT_EQ(sink.diagnostics()[0].code, "import-cycle");
}

TEST(Compat, IdenticalFilesHaveNoFindings) {
    kabi::DiagnosticSink sink;
    kabi::Workspace old_workspace(sink, {}), new_workspace(sink, {});
    std::string text = "package p version 1;\nvtable V version 1 { @0 f() -> status since 1; }\n";
    const kabi::File* before = old_workspace.load_text("p.kabi", text);
    const kabi::File* after = new_workspace.load_text("p.kabi", text);
    ASSERT_TRUE(before && after);
    EXPECT_TRUE(kabi::compare_packages(*before, *after).empty());
}

}  // namespace

namespace ring_table {

// Two packages: `a` declares every kind of interface, `b` the modules providing and
// requiring them.
constexpr const char* kPackageA =
    "package a version 1;\n"
    "vtable Ringed version 1 transport(direct, ring) tier 0..1 { @0 f() -> status since 1; }\n"
    "vtable Direct version 1 transport(direct) { @0 f() -> status since 1; }\n"
    "vtable HighTier version 1 transport(direct, ring) tier 2..2 { @0 f() -> status since 1; }\n"
    "vtable ByDirectModule version 1 { @0 f() -> status since 1; }\n"
    "vtable Unprovided version 1 { @0 f() -> status since 1; }\n"
    "vtable TierZeroConsumer version 1 { @0 f() -> status since 1; }\n"
    "module direct_only version 1 { provides ByDirectModule version 1; transport(direct); }\n";
constexpr const char* kPackageB =
    "package b version 1;\nimport a;\n"
    "vtable Local version 1 { @0 f() -> status since 1; }\n"
    "module provider version 1 {\n"
    "    provides a.Ringed version 1; provides a.HighTier version 1; provides a.Direct version 1;\n"
    "    provides a.TierZeroConsumer version 1; provides Local version 1;\n"
    "    transport(direct, ring); tier 0..0;\n}\n"
    "module consumer version 1 {\n"
    "    requires a.Ringed >= 1; requires a.HighTier >= 1; requires a.Direct >= 1;\n"
    "    requires a.ByDirectModule >= 1; requires a.Unprovided >= 1; requires Local >= 1;\n"
    "    transport(direct, ring); tier 0..1;\n}\n"
    "module tier_zero version 1 {\n"
    "    requires a.TierZeroConsumer >= 1; transport(direct, ring); tier 0..0;\n}\n";

std::string table_for(bool b_first) {
    TempDirectory directory;
    std::string a = directory.write("a.kabi", kPackageA);
    std::string b = directory.write("b.kabi", kPackageB);
    kabi::DiagnosticSink sink;
    kabi::Workspace workspace(sink, {});
    std::vector<const kabi::File*> files;
    for (const std::string& path : b_first ? std::vector{b, a} : std::vector{a, b})
        files.push_back(workspace.load(path));
    EXPECT_FALSE(sink.has_errors()) << sink.render_all();
    return kabi::emit_ring_adapter_table(files);
}

TEST(RingTable, HoldsWhatARingCanCarryAndSaysWhyTheRestIsLeftOut) {
    std::string table = table_for(false);
    EXPECT_NE(table.find("kRingAdapterCount = 2;"), std::string::npos) << table;
    EXPECT_NE(table.find("\"a\", \"Ringed\""), std::string::npos);
    EXPECT_NE(table.find("\"b\", \"Local\""), std::string::npos);
    EXPECT_NE(table.find("a.Direct: its transport does not allow ring"), std::string::npos);
    EXPECT_NE(table.find("a.HighTier: its tier range excludes tier 1"), std::string::npos);
    EXPECT_NE(table.find("a.ByDirectModule: no module that allows ring provides it"),
              std::string::npos);
    EXPECT_NE(table.find("a.Unprovided: no module that allows ring provides it"),
              std::string::npos);
    EXPECT_NE(table.find("a.TierZeroConsumer: no module that allows ring at tier 1 requires it"),
              std::string::npos);
    EXPECT_LT(table.find("\"a\", \"Ringed\""), table.find("\"b\", \"Local\""));  // sorted
    EXPECT_NE(table.find("#include \"umka/kabi/a_ring.hpp\""), std::string::npos);
}

TEST(RingTable, DoesNotDependOnInputOrder) {
    EXPECT_EQ(table_for(false), table_for(true));
}

TEST(RingTable, AnEmptyTableHoldsOneUnusedElement) {
    kabi::DiagnosticSink sink;
    kabi::Workspace workspace(sink, {});
    const kabi::File* file = workspace.load_text("c.kabi", "package c version 1;\n");
    ASSERT_NE(file, nullptr);
    std::string table = kabi::emit_ring_adapter_table({file});
    EXPECT_NE(table.find("kRingAdapterCount = 0;"), std::string::npos);
    EXPECT_NE(table.find("kRingAdapters[1] = {\n};"), std::string::npos) << table;
    EXPECT_EQ(table.find("#include \"umka/kabi/c_ring.hpp\""), std::string::npos);
}

}  // namespace ring_table
