#include "umka/command_words.h"
#include "umka/errno_text.h"
#include "umka/line_text.h"
#include "umka/number_text.h"
#include "workload.h"

namespace umka::workload {

void Output::put(char character) {
    if (length_ < capacity_) {
        data_[length_++] = character;
    } else {
        truncated_ = true;
    }
}

Output& Output::add(const char* text) {
    while (*text != '\0') put(*text++);
    return *this;
}

Output& Output::add(const char* text, uint64_t length) {
    for (uint64_t index = 0; index < length; ++index) put(text[index]);
    return *this;
}

Output& Output::number(uint64_t value, uint32_t width, char fill) {
    umka::LineText<20> digits;
    digits.number(value);
    for (uint64_t pad = digits.length(); pad < width; ++pad) put(fill);
    return add(digits.data(), digits.length());
}

Output& Output::signed_number(int64_t value) {
    if (value >= 0) return number(uint64_t(value));
    put('-');
    return number(0 - uint64_t(value));
}

Output& Output::padded(const char* text, uint32_t width) {
    uint32_t used = 0;
    for (; text[used] != '\0'; ++used) put(text[used]);
    for (; used < width; ++used) put(' ');
    return *this;
}

Output& Output::ratio(uint64_t numerator, uint64_t denominator) {
    // Hundredths without overflow for any per-call figure a run can produce.
    uint64_t hundredths = denominator != 0 ? numerator * 100 / denominator : 0;
    number(hundredths / 100).add(".");
    if (hundredths % 100 < 10) add("0");
    return number(hundredths % 100).add("x");
}

bool same_text(const char* left, const char* right) {
    return umka::same_word(left, right);
}

bool parse_count(Output& out, const char* command, const char* what, const char* text,
                 uint64_t minimum, uint64_t limit, uint64_t* value) {
    umka::ParsedNumber parsed = umka::parse_unsigned(text, limit);
    if (parsed.ok() && parsed.value >= minimum) {
        *value = parsed.value;
        return true;
    }
    uint64_t length = 0;
    while (text[length] != '\0' && length < 24) ++length;
    out.add(command).add(": ").add(what).add(" must be ").number(minimum).add(" to ").number(limit);
    out.add("; '").add(text, length).add(text[length] != '\0' ? "...' is " : "' is ");
    out.add(parsed.ok() ? "too small" : umka::number_error_text(parsed.error)).add("\n");
    return false;
}

const char* errno_name(int32_t code) {
    return umka::errno_text(code);
}

}  // namespace umka::workload
