#include "type_facts.h"

#include <set>

namespace kabi {

namespace {
struct BuiltinEntry {
    std::string_view name;
    BuiltinType type;
    uint64_t size;
};
constexpr BuiltinEntry builtins[] = {
    {"u8", BuiltinType::U8, 1},
    {"u16", BuiltinType::U16, 2},
    {"u32", BuiltinType::U32, 4},
    {"u64", BuiltinType::U64, 8},
    {"i8", BuiltinType::I8, 1},
    {"i16", BuiltinType::I16, 2},
    {"i32", BuiltinType::I32, 4},
    {"i64", BuiltinType::I64, 8},
    {"bool8", BuiltinType::Bool8, 1},
    {"status", BuiltinType::Status, 4},
    {"dma_addr", BuiltinType::DmaAddr, 8},
    {"string", BuiltinType::String, 0},
    {"bytes", BuiltinType::Bytes, 0},
    {"bytes_mut", BuiltinType::BytesMut, 0},
};
}  // namespace

std::optional<BuiltinType> builtin_from_name(std::string_view name) {
    for (const BuiltinEntry& entry : builtins) {
        if (entry.name == name) return entry.type;
    }
    return std::nullopt;
}

const char* builtin_name(BuiltinType type) {
    for (const BuiltinEntry& entry : builtins) {
        if (entry.type == type) return entry.name.data();
    }
    return "?";
}

uint64_t builtin_size(BuiltinType type) {
    for (const BuiltinEntry& entry : builtins) {
        if (entry.type == type) return entry.size;
    }
    return 0;
}

bool is_span(BuiltinType type) {
    return type == BuiltinType::String || type == BuiltinType::Bytes ||
           type == BuiltinType::BytesMut;
}

bool is_integer(BuiltinType type) {
    switch (type) {
    case BuiltinType::U8:
    case BuiltinType::U16:
    case BuiltinType::U32:
    case BuiltinType::U64:
    case BuiltinType::I8:
    case BuiltinType::I16:
    case BuiltinType::I32:
    case BuiltinType::I64:
        return true;
    default:
        return false;
    }
}

bool is_unsigned_integer(BuiltinType type) {
    return type == BuiltinType::U8 || type == BuiltinType::U16 || type == BuiltinType::U32 ||
           type == BuiltinType::U64;
}

bool is_scalar(const TypeRef& type) {
    if (type.array_length != 0) return false;
    switch (type.kind) {
    case TypeKind::Builtin:
        return !is_span(type.builtin);
    case TypeKind::Enum:
    case TypeKind::Flags:
    case TypeKind::Handle:
        return true;
    default:
        return false;
    }
}

bool is_reserved_word(std::string_view name) {
    static const std::set<std::string_view> words = {
        "alignas",   "alignof",       "and",          "asm",       "auto",     "bool",
        "break",     "case",          "catch",        "char",      "class",    "const",
        "constexpr", "continue",      "default",      "delete",    "do",       "double",
        "else",      "enum",          "explicit",     "export",    "extern",   "false",
        "float",     "for",           "friend",       "goto",      "if",       "inline",
        "int",       "long",          "mutable",      "namespace", "new",      "noexcept",
        "not",       "nullptr",       "operator",     "or",        "private",  "protected",
        "public",    "register",      "restrict",     "return",    "short",    "signed",
        "sizeof",    "static",        "struct",       "switch",    "template", "this",
        "throw",     "true",          "try",          "typedef",   "typeid",   "typename",
        "union",     "unsigned",      "using",        "virtual",   "void",     "volatile",
        "while",     "xor",           "concept",      "requires",  "co_await", "co_return",
        "co_yield",  "consteval",     "constinit",    "char8_t",   "char16_t", "char32_t",
        "wchar_t",   "static_assert", "thread_local", "decltype",  "final",    "override",
        "_Bool",     "_Alignas"};
    if (words.count(name)) return true;
    // Leading underscore + capital and double underscores belong to the implementation.
    if (name.size() >= 2 && name[0] == '_' &&
        (name[1] == '_' || (name[1] >= 'A' && name[1] <= 'Z')))
        return true;
    return name.find("__") != std::string_view::npos;
}

}  // namespace kabi
