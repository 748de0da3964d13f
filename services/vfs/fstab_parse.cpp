// The fstab line parser (fstab.h): pure, so the host test and the fuzzer run this very code.
#include "fstab.h"

namespace umka::vfs {
namespace {

bool is_blank(char character) {
    return character == ' ' || character == '\t';
}

bool same(const char* text, uint32_t length, const char* word) {
    uint32_t index = 0;
    for (; index < length; ++index) {
        if (word[index] == '\0' || word[index] != text[index]) return false;
    }
    return word[index] == '\0';
}

}  // namespace

FstabLine parse_fstab_line(const char* text, uint32_t length, FstabEntry* entry,
                           const char** reason) {
    constexpr uint32_t kMaximumFields = 4;
    const char* fields[kMaximumFields] = {};
    uint32_t lengths[kMaximumFields] = {};
    uint32_t count = 0;
    *reason = nullptr;
    if (length > kFstabMaximumLineBytes) {
        *reason = "line longer than 256 bytes";
        return FstabLine::Malformed;
    }
    uint32_t at = 0;
    while (at < length) {
        while (at < length && is_blank(text[at])) ++at;
        if (at == length || text[at] == '#') break;
        uint32_t start = at;
        while (at < length && !is_blank(text[at])) {
            if (text[at] == '\0') {
                *reason = "NUL byte in the line";
                return FstabLine::Malformed;
            }
            ++at;
        }
        if (count == kMaximumFields) {
            *reason = "more than 4 fields (SOURCE TARGET TYPE [OPTIONS])";
            return FstabLine::Malformed;
        }
        fields[count] = text + start;
        lengths[count] = at - start;
        ++count;
    }
    if (count == 0) return FstabLine::Blank;
    if (count < 3) {
        *reason = "expected SOURCE TARGET TYPE [OPTIONS]";
        return FstabLine::Malformed;
    }
    if (fields[1][0] != '/') {
        *reason = "TARGET is not an absolute path";
        return FstabLine::Malformed;
    }
    entry->source = fields[0];
    entry->source_length = lengths[0];
    entry->target = fields[1];
    entry->target_length = lengths[1];
    entry->type = fields[2];
    entry->type_length = lengths[2];
    entry->missing_device = MissingDevice::Report;
    if (count == 4) {
        const char* options = fields[3];
        uint32_t remaining = lengths[3];
        while (remaining > 0) {
            uint32_t option = 0;
            while (option < remaining && options[option] != ',') ++option;
            if (same(options, option, "nofail")) {
                entry->missing_device = MissingDevice::Skip;
            } else if (!same(options, option, "defaults")) {
                *reason = "an option other than defaults or nofail";
                return FstabLine::Malformed;
            }
            if (option == remaining) break;
            options += option + 1;
            remaining -= option + 1;
            if (remaining == 0) {
                *reason = "an empty option";
                return FstabLine::Malformed;
            }
        }
    }
    return FstabLine::Entry;
}

}  // namespace umka::vfs
