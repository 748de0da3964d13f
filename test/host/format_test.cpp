#include "nucleus/lib/format.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace umka {
namespace {

std::string formatted(const char* pattern, auto... arguments) {
    char buffer[128];
    format(buffer, sizeof buffer, pattern, arguments...);
    return buffer;
}

TEST(FormatTest, IntegersInEveryWidthAndBase) {
    EXPECT_EQ(formatted("%d %i %u", -42, 7, 42u), "-42 7 42");
    EXPECT_EQ(formatted("%lu %lx", uint64_t(1) << 40, uint64_t(0xdeadbeefcafe)),
              "1099511627776 deadbeefcafe");
    EXPECT_EQ(formatted("%zu", size_t(12)), "12");
    EXPECT_EQ(formatted("%016lx", uint64_t(0xabc)), "0000000000000abc");
    EXPECT_EQ(formatted("%5d|%-5d|", 42, 42), "   42|42   |");
    EXPECT_EQ(formatted("%ld", int64_t(INT64_MIN)), "-9223372036854775808");
}

TEST(FormatTest, StringsCharactersPointers) {
    EXPECT_EQ(formatted("%s/%c", "umka", 'x'), "umka/x");
    EXPECT_EQ(formatted("[%-6s]", "ab"), "[ab    ]");
    const char* volatile missing = nullptr;  // volatile: the compiler may not fold the null
    EXPECT_EQ(formatted("%s", missing), "(null)");
    EXPECT_EQ(formatted("%p", reinterpret_cast<void*>(0x1234)), "0x0000000000001234");
    EXPECT_EQ(formatted("100%%"), "100%");
    EXPECT_EQ(formatted("%.3s|%.*s|%.9s", "abcdef", 2, "xyz", "ab"), "abc|xy|ab");
}

TEST(FormatTest, TruncatesAndAlwaysTerminates) {
    char buffer[6];
    size_t length = format(buffer, sizeof buffer, "%s", "abcdefgh");
    EXPECT_STREQ(buffer, "abcde");
    EXPECT_EQ(length, 5u);
}

}  // namespace
}  // namespace umka
