// The SDK's shared text helpers: the one number parser and whole-or-nothing name copies.
#include <gtest/gtest.h>

#include <string>

#include "umka/errno_text.h"
#include "umka/name_copy.h"
#include "umka/number_text.h"

namespace {

using umka::NumberBase;
using umka::NumberError;
using umka::parse_unsigned;

TEST(NumberText, DecimalAndPrefixedHex) {
    EXPECT_EQ(parse_unsigned("0", 10).value, 0u);
    EXPECT_EQ(parse_unsigned("1234", 10000).value, 1234u);
    EXPECT_EQ(parse_unsigned("0x1F", 100).value, 31u);
    EXPECT_EQ(parse_unsigned("ff", UINT64_MAX, NumberBase::Hexadecimal).value, 255u);
    EXPECT_EQ(parse_unsigned("ff", UINT64_MAX, NumberBase::Decimal).error, NumberError::NotANumber);
    EXPECT_EQ(parse_unsigned("0x1F", 100, NumberBase::Decimal).error, NumberError::NotANumber);
}

TEST(NumberText, RefusesEmptyAndGarbage) {
    EXPECT_EQ(parse_unsigned("", 10).error, NumberError::Empty);
    EXPECT_EQ(parse_unsigned("0x", 10).error, NumberError::NotANumber);
    EXPECT_EQ(parse_unsigned("-1", 10).error, NumberError::NotANumber);
    EXPECT_EQ(parse_unsigned("12a", 1000).error, NumberError::NotANumber);
    EXPECT_EQ(parse_unsigned(" 1", 10).error, NumberError::NotANumber);
}

TEST(NumberText, LimitIsInclusiveAndNeverWraps) {
    EXPECT_TRUE(parse_unsigned("4096", 4096).ok());
    EXPECT_EQ(parse_unsigned("4097", 4096).error, NumberError::TooLarge);
    EXPECT_EQ(parse_unsigned("18446744073709551615", UINT64_MAX).value, UINT64_MAX);
    // 2^64 + 1 wrapped to 1 in the old hand-written parsers.
    EXPECT_EQ(parse_unsigned("18446744073709551617", UINT64_MAX).error, NumberError::TooLarge);
    EXPECT_EQ(parse_unsigned("4294967298", UINT32_MAX).error, NumberError::TooLarge);
    EXPECT_EQ(parse_unsigned("0x10000000000000000", UINT64_MAX).error, NumberError::TooLarge);
    EXPECT_EQ(parse_unsigned("9", 8).error, NumberError::TooLarge);
    EXPECT_EQ(parse_unsigned("0", 0).value, 0u);
    EXPECT_EQ(parse_unsigned("1", 0).error, NumberError::TooLarge);
}

TEST(NumberText, LengthBoundedSpan) {
    const char text[] = "123456";
    EXPECT_EQ(parse_unsigned(text, 3, 1000).value, 123u);
    EXPECT_EQ(parse_unsigned(text, 0, 1000).error, NumberError::Empty);
}

TEST(NumberText, EveryValueRoundTripsAtTheLimit) {
    for (uint64_t value : {0ull, 1ull, 9ull, 10ull, 99ull, 65535ull, 4294967295ull,
                           1844674407370955161ull, 18446744073709551614ull}) {
        std::string text = std::to_string(value);
        EXPECT_EQ(parse_unsigned(text.c_str(), value).value, value) << text;
        if (value != 0) {
            EXPECT_EQ(parse_unsigned(text.c_str(), value - 1).error, NumberError::TooLarge);
        }
    }
}

TEST(NameCopy, WholeOrNothing) {
    char field[8];
    EXPECT_TRUE(umka::copy_name(field, sizeof field, "seven77"));
    EXPECT_STREQ(field, "seven77");
    EXPECT_FALSE(umka::copy_name(field, sizeof field, "eight888"));
    EXPECT_STREQ(field, "");
    EXPECT_FALSE(umka::copy_name(field, 0, "x"));
    const char with_nul[] = {'a', '\0', 'b'};
    EXPECT_FALSE(umka::copy_name(field, sizeof field, with_nul, 3));
    EXPECT_STREQ(field, "");
    EXPECT_TRUE(umka::copy_name(field, sizeof field, "abcdef", 3));
    EXPECT_STREQ(field, "abc");
}

TEST(ErrnoText, NamesEveryKabiErrnoAndNothingElse) {
    EXPECT_STREQ(umka::errno_text(0), "OK");
    EXPECT_STREQ(umka::errno_text(UMKA_KABI_EPERM), "EPERM");
    EXPECT_STREQ(umka::errno_text(UMKA_KABI_EINVAL), "EINVAL");
    EXPECT_STREQ(umka::errno_text(UMKA_KABI_ECANCELED), "ECANCELED");
    EXPECT_STREQ(umka::errno_text(UMKA_KABI_EOPNOTSUPP), "EOPNOTSUPP");
    EXPECT_STREQ(umka::errno_text(-1), "E?");
    EXPECT_STREQ(umka::errno_text(100000), "E?");
}

}  // namespace
