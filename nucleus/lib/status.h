// Explicit errors for the nucleus: Linux errno values, never exceptions.
#pragma once

#include <stdint.h>

#include <type_traits>
#include <utility>

#include "nucleus/lib/verify.h"

namespace umka {

// Values are Linux errno numbers so they cross the user ABI unchanged. The names are
// spelled out because <errno.h> defines EINVAL etc. as macros; errno_name() gives the
// Linux spelling.
enum class Errno : int32_t {
    Ok = 0,
    NotPermitted = 1,
    NotFound = 2,
    IoError = 5,
    NoDeviceOrAddress = 6,
    TooBig = 7,
    ExecFormat = 8,
    TryAgain = 11,
    OutOfMemory = 12,
    BadAddress = 14,
    Busy = 16,
    Exists = 17,
    NoDevice = 19,
    InvalidArgument = 22,
    NoSpace = 28,
    OutOfRange = 34,
    NoFunction = 38,
    NoData = 61,
    Protocol = 71,  // EPROTO: e.g. a module refusing state it does not understand
    Overflow = 75,
    BadMessage = 74,
    NotSupported = 95,
    TimedOut = 110,
};

const char* errno_name(Errno error);

class [[nodiscard]] Status {
public:
    constexpr Status() = default;
    constexpr Status(Errno error) : error_(error) {}
    static constexpr Status ok() { return Status(); }

    constexpr bool is_ok() const { return error_ == Errno::Ok; }
    constexpr bool is_error() const { return error_ != Errno::Ok; }
    constexpr Errno error() const { return error_; }
    constexpr bool operator==(const Status&) const = default;

private:
    Errno error_ = Errno::Ok;
};

template <typename T>
class Result;
namespace detail {
template <typename T>
constexpr T try_value(Result<T>& result);
}  // namespace detail

// A value or an errno. T must be default-constructible and trivially destructible in the
// nucleus (no heap there), which keeps this a plain tagged pair.
template <typename T>
class [[nodiscard]] Result {
public:
    constexpr Result(T value) : value_(std::move(value)) {}
    constexpr Result(Errno error) : error_(error) {}
    constexpr Result(Status status) : error_(status.error()) {}

    constexpr bool is_ok() const { return error_ == Errno::Ok; }
    constexpr bool is_error() const { return error_ != Errno::Ok; }
    constexpr Errno error() const { return error_; }
    constexpr Status status() const { return Status(error_); }
    // Reading the value of an error is a bug, never a default T: a VERIFY failure that
    // names the caller's line and the error.
    constexpr T& value(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
        verify_value(file, line);
        return value_;
    }
    constexpr const T& value(const char* file = __builtin_FILE(),
                             unsigned line = __builtin_LINE()) const {
        verify_value(file, line);
        return value_;
    }
    constexpr T release_value(const char* file = __builtin_FILE(),
                              unsigned line = __builtin_LINE()) {
        verify_value(file, line);
        return std::move(value_);
    }

private:
    template <typename U>
    friend constexpr U detail::try_value(Result<U>& result);

    constexpr void verify_value(const char* file, unsigned line) const {
        if (__builtin_expect(error_ != Errno::Ok, 0)) {
            umka_verify_failed(detail::file_name_of(file), line, "value() of a Result holding %s",
                               errno_name(error_));
        }
    }

    T value_{};
    Errno error_ = Errno::Ok;
};

}  // namespace umka

// Propagate an error out of the current function; yields the value otherwise.
#define TRY(expression)                                         \
    ({                                                          \
        auto&& try_result_ = (expression);                      \
        if (try_result_.is_error()) return try_result_.error(); \
        ::umka::detail::try_value(try_result_);                 \
    })

namespace umka::detail {
// TRY() has just checked the result: no second check.
template <typename T>
constexpr T try_value(Result<T>& result) {
    return std::move(result.value_);
}
constexpr void try_value(Status&) {}
}  // namespace umka::detail
