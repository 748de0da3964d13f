// libFuzzer over the fstab line parser: for any bytes it must answer within them, an Entry's
// three fields must be non-empty, blank-free slices of the line with an absolute TARGET, a
// refusal must carry its reason, and the answer must be the same every time.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fstab.h"

namespace {

void require(bool condition) {
    if (!condition) abort();
}

void check_field(const uint8_t* data, size_t size, const char* field, uint32_t length) {
    const auto* start = reinterpret_cast<const char*>(data);
    require(length > 0 && field >= start && field + length <= start + size);
    for (uint32_t index = 0; index < length; ++index) {
        require(field[index] != ' ' && field[index] != '\t' && field[index] != '\0');
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 512) return 0;
    using namespace umka::vfs;
    FstabEntry entry{};
    const char* reason = nullptr;
    const auto* text = reinterpret_cast<const char*>(data);
    FstabLine kind = parse_fstab_line(text, uint32_t(size), &entry, &reason);
    FstabEntry again{};
    const char* again_reason = nullptr;
    require(parse_fstab_line(text, uint32_t(size), &again, &again_reason) == kind);
    require(again_reason == reason);
    switch (kind) {
    case FstabLine::Blank:
        require(reason == nullptr);
        break;
    case FstabLine::Malformed:
        require(reason != nullptr);
        break;
    case FstabLine::Entry:
        require(reason == nullptr);
        check_field(data, size, entry.source, entry.source_length);
        check_field(data, size, entry.target, entry.target_length);
        check_field(data, size, entry.type, entry.type_length);
        require(entry.target[0] == '/');
        break;
    }
    return 0;
}
