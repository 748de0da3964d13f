#include "nucleus/module/symbol_names.h"

namespace umka::modules {
namespace {

constexpr char kAnonymousNamespace[] = "_GLOBAL__N_1";

bool is_digit(char character) {
    return character >= '0' && character <= '9';
}

// Appends `length` characters (or a C string when length is ~0) to buffer at *used;
// false when it does not fit.
bool append(char* buffer, size_t capacity, size_t* used, const char* text, size_t length) {
    for (size_t index = 0; index < length; ++index) {
        if (*used + 1 >= capacity) return false;
        buffer[(*used)++] = text[index];
    }
    buffer[*used] = '\0';
    return true;
}

size_t length_of(const char* text) {
    size_t length = 0;
    while (text[length] != '\0') ++length;
    return length;
}

// Reads one <source-name> (<decimal length><identifier>) at *cursor and appends it.
bool source_name(const char** cursor, char* buffer, size_t capacity, size_t* used) {
    const char* at = *cursor;
    if (!is_digit(*at)) return false;
    size_t length = 0;
    while (is_digit(*at)) {
        length = length * 10 + size_t(*at - '0');
        if (length > 4096) return false;
        ++at;
    }
    for (size_t index = 0; index < length; ++index) {
        if (at[index] == '\0') return false;  // the string ends inside the identifier
    }
    bool anonymous = length == sizeof(kAnonymousNamespace) - 1;
    for (size_t index = 0; anonymous && index < length; ++index) {
        anonymous = at[index] == kAnonymousNamespace[index];
    }
    bool fits = anonymous ? append(buffer, capacity, used, "(anonymous namespace)",
                                   length_of("(anonymous namespace)"))
                          : append(buffer, capacity, used, at, length);
    *cursor = at + length;
    return fits;
}

}  // namespace

const char* readable_symbol_name(const char* name, char* buffer, size_t capacity) {
    if (name == nullptr || capacity == 0 || name[0] != '_' || name[1] != 'Z') return name;
    const char* cursor = name + 2;
    if (*cursor == 'L') ++cursor;  // internal linkage
    size_t used = 0;
    buffer[0] = '\0';
    if (*cursor == 'N') {
        ++cursor;
        while (*cursor == 'r' || *cursor == 'V' || *cursor == 'K') ++cursor;  // cv-qualifiers
        bool first = true;
        while (*cursor != 'E') {
            if (!first && !append(buffer, capacity, &used, "::", 2)) return name;
            if (!source_name(&cursor, buffer, capacity, &used)) return name;
            first = false;
        }
        return first ? name : buffer;
    }
    if (!source_name(&cursor, buffer, capacity, &used)) return name;
    return buffer;
}

}  // namespace umka::modules
