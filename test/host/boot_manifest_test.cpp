#include "nucleus/bundle/boot_manifest.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace umka::bundle {
namespace {

struct Parsed {
    std::vector<ModuleRequest> modules;
    std::vector<std::pair<std::string, std::string>> parameters;
};

Status parse(const std::string& text, Parsed& parsed, ManifestError& error) {
    ManifestVisitor visitor;
    visitor.context = &parsed;
    visitor.module = [](void* context, const ModuleRequest& request) {
        static_cast<Parsed*>(context)->modules.push_back(request);
    };
    visitor.parameter = [](void* context, const Parameter& parameter) {
        static_cast<Parsed*>(context)->parameters.emplace_back(
            std::string(parameter.key.text, parameter.key.length),
            std::string(parameter.value.text, parameter.value.length));
    };
    return parse_boot_manifest(text.data(), text.size(), visitor, error);
}

TEST(BootManifestTest, ModulesOptionsParametersAndComments) {
    Parsed parsed;
    ManifestError error{};
    std::string text =
        "# the default bundle\n"
        "module serial_console.umod tier=0 transport=direct critical ports=0x3f8+8\n"
        "\n"
        "   module console.umod transport=ring tier=1   # trailing comment\r\n"
        "module pci_bus_driver.umod ports=0xcf8+8 ecam\n"
        "param console.prompt=umka>\n";
    ASSERT_TRUE(parse(text, parsed, error).is_ok()) << error.reason;
    ASSERT_EQ(parsed.modules.size(), 3u);
    EXPECT_TRUE(parsed.modules[0].file.equals("serial_console.umod"));
    EXPECT_EQ(parsed.modules[0].criticality, Criticality::Critical);
    EXPECT_EQ(parsed.modules[0].transport, Transport::Direct);
    EXPECT_EQ(parsed.modules[0].port_base, 0x3f8);
    EXPECT_EQ(parsed.modules[0].port_count, 8);
    EXPECT_EQ(parsed.modules[1].port_count, 0);
    EXPECT_TRUE(parsed.modules[1].file.equals("console.umod"));
    EXPECT_EQ(parsed.modules[1].tier, 1);
    EXPECT_EQ(parsed.modules[1].transport, Transport::Ring);
    EXPECT_EQ(parsed.modules[1].criticality, Criticality::Optional);
    EXPECT_EQ(parsed.modules[1].configuration_space, ConfigurationSpace::NotGranted);
    EXPECT_EQ(parsed.modules[2].configuration_space, ConfigurationSpace::Ecam);
    EXPECT_EQ(parsed.modules[2].port_base, 0xcf8);
    ASSERT_EQ(parsed.parameters.size(), 1u);
    EXPECT_EQ(parsed.parameters[0].first, "console.prompt");
    EXPECT_EQ(parsed.parameters[0].second, "umka>");
}

// What a driver's line grants: the devices it drives and its ISA IRQ.
TEST(BootManifestTest, IrqOption) {
    Parsed parsed;
    ManifestError error{};
    ASSERT_TRUE(parse("module v.umod irq=4\nmodule w.umod\n", parsed, error).is_ok())
        << error.reason;
    ASSERT_EQ(parsed.modules.size(), 2u);
    EXPECT_EQ(parsed.modules[0].isa_irq, 4);
    EXPECT_EQ(parsed.modules[1].isa_irq, kNoIsaIrq);
}

TEST(BootManifestTest, EmptyManifestIsValid) {
    Parsed parsed;
    ManifestError error{};
    EXPECT_TRUE(parse("", parsed, error).is_ok());
    EXPECT_TRUE(parse("# nothing\n\n", parsed, error).is_ok());
    EXPECT_TRUE(parsed.modules.empty());
}

struct BadCase {
    const char* text;
    uint32_t line;
    uint32_t column;
    const char* reason_fragment;
};

TEST(BootManifestTest, EveryMistakeNamesLineColumnAndReason) {
    const BadCase cases[] = {
        {"modul x.umod\n", 1, 1, "unknown keyword"},
        {"module\n", 1, 7, "needs a file name"},
        {"# ok\nmodule a.umod tier=3\n", 2, 15, "tier must be 0, 1 or 2"},
        {"module a.umod tier=10\n", 1, 15, "tier must be"},
        {"module a.umod transport=pipe\n", 1, 15, "transport must be"},
        {"module a.umod fast\n", 1, 15, "unknown module option"},
        {"module a.umod ports=0x3f8\n", 1, 15, "ports must be BASE+COUNT"},
        {"module a.umod ports=0xfff8+9\n", 1, 15, "ports must be"},
        {"module a.umod ports=0x3f8+0\n", 1, 15, "ports must be"},
        {"module a.umod ports=0x3g8+8\n", 1, 15, "ports must be"},
        {"module a.umod irq=16\n", 1, 15, "irq must be an ISA IRQ"},
        {"module a.umod irq=x\n", 1, 15, "irq must be"},
        // What a driver drives is in its own signed manifest (IDL `matches`), not here.
        {"module a.umod match=1af4:1042\n", 1, 15, "unknown module option"},
        {"param novalue\n", 1, 7, "key=value"},
        {"param =x\n", 1, 7, "key=value"},
        {"param a=b c\n", 1, 11, "text after key=value"},
    };
    for (const BadCase& bad : cases) {
        Parsed parsed;
        ManifestError error{};
        EXPECT_EQ(parse(bad.text, parsed, error).error(), Errno::InvalidArgument) << bad.text;
        EXPECT_EQ(error.line, bad.line) << bad.text;
        EXPECT_EQ(error.column, bad.column) << bad.text;
        ASSERT_NE(error.reason, nullptr);
        EXPECT_NE(std::string(error.reason).find(bad.reason_fragment), std::string::npos)
            << bad.text << " -> " << error.reason;
    }
}

// A bad line is reported and skipped; the lines after it are still read (the first error
// is the one returned).
TEST(BootManifestTest, ParsingCarriesOnAfterABadLine) {
    Parsed parsed;
    std::vector<std::pair<uint32_t, std::string>> malformed;
    ManifestVisitor visitor;
    struct Context {
        Parsed* parsed;
        std::vector<std::pair<uint32_t, std::string>>* malformed;
    } context{&parsed, &malformed};
    visitor.context = &context;
    visitor.module = [](void* context, const ModuleRequest& request) {
        static_cast<Context*>(context)->parsed->modules.push_back(request);
    };
    visitor.malformed = [](void* context, const ManifestError& error,
                           const ModuleRequest* request) {
        static_cast<Context*>(context)->malformed->emplace_back(
            error.line, request != nullptr ? std::string(request->file.text, request->file.length)
                                           : std::string("-"));
    };
    std::string text = "module a.umod\nmodule b.umod ports=0x10000+1\nwhat\nmodule c.umod\n";
    ManifestError error{};
    EXPECT_EQ(parse_boot_manifest(text.data(), text.size(), visitor, error).error(),
              Errno::InvalidArgument);
    EXPECT_EQ(error.line, 2u);
    ASSERT_EQ(parsed.modules.size(), 2u);
    EXPECT_TRUE(parsed.modules[1].file.equals("c.umod"));
    EXPECT_EQ(malformed, (std::vector<std::pair<uint32_t, std::string>>{{2, "b.umod"}, {3, "-"}}));
}

// Numbers past their limit are refused, never wrapped (umka::parse_unsigned).
TEST(BootManifestTest, PortNumbersNeverWrap) {
    Parsed parsed;
    ManifestError error{};
    EXPECT_TRUE(parse("module a ports=0xfff0+16\n", parsed, error).is_ok());
    EXPECT_TRUE(parse("module a ports=0+65536\n", parsed, error).is_ok());
    EXPECT_TRUE(parse("module a ports=4294967297+1\n", parsed, error).is_error());
    EXPECT_TRUE(parse("module a ports=1+18446744073709551617\n", parsed, error).is_error());
    EXPECT_TRUE(parse("module a ports=0x+1\n", parsed, error).is_error());
}

}  // namespace
}  // namespace umka::bundle
