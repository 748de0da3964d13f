// VERIFY and Result<T>::value(): a broken invariant stops the program with the file and
// line of the check (the caller's line for value()) and says what failed.
#include "nucleus/lib/verify.h"

#include <gtest/gtest.h>

#include <string>

#include "nucleus/lib/status.h"

namespace umka {
namespace {

// "verify_test.cpp:<line>: <message>" as a death-test pattern.
std::string at_line(int line, const std::string& message) {
    return "verify_test\\.cpp:" + std::to_string(line) + ": " + message;
}

// Runs on one line each, so __LINE__ is the line of the check inside it.
#define EXPECT_DEATH_HERE(statement, message) EXPECT_DEATH(statement, at_line(__LINE__, message))

TEST(VerifyTest, AHoldingConditionPassesAndIsEvaluatedOnce) {
    int evaluated = 0;
    VERIFY(++evaluated == 1);
    EXPECT_EQ(evaluated, 1);
}

TEST(VerifyTest, ABrokenConditionAbortsWithFileLineAndItsText) {
    int frames = 3;
    EXPECT_DEATH_HERE(VERIFY(frames == 4), "VERIFY\\(frames == 4\\) failed");
}

TEST(VerifyTest, NotReachedAborts) {
    EXPECT_DEATH_HERE(VERIFY_NOT_REACHED(), "VERIFY_NOT_REACHED\\(\\)");
}

TEST(ResultValueTest, AValueIsReadAsIs) {
    Result<int> found(42);
    EXPECT_EQ(found.value(), 42);
    const Result<int>& same = found;
    EXPECT_EQ(same.value(), 42);
    EXPECT_EQ(found.release_value(), 42);
}

TEST(ResultValueTest, TheValueOfAnErrorIsAFailureAtTheCallersLine) {
    Result<int> missing(Errno::NotFound);
    EXPECT_DEATH_HERE((void)missing.value(), "value\\(\\) of a Result holding ENOENT");
}

TEST(ResultValueTest, ConstAndReleasedValuesOfAnErrorFailToo) {
    const Result<uint64_t> full(Errno::NoSpace);
    EXPECT_DEATH_HERE((void)full.value(), "value\\(\\) of a Result holding ENOSPC");
    Result<uint64_t> busy(Status(Errno::Busy));
    EXPECT_DEATH_HERE((void)busy.release_value(), "value\\(\\) of a Result holding EBUSY");
}

Result<int> halve(int value) {
    if (value % 2 != 0) return Errno::InvalidArgument;
    return value / 2;
}

Result<int> quarter(int value) {
    int half = TRY(halve(value));
    return TRY(halve(half));
}

TEST(ResultValueTest, TryPropagatesAnErrorWithoutReadingItsValue) {
    EXPECT_EQ(quarter(12).value(), 3);
    EXPECT_EQ(quarter(6).error(), Errno::InvalidArgument);
    EXPECT_EQ(quarter(7).error(), Errno::InvalidArgument);
}

}  // namespace
}  // namespace umka
