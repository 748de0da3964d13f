#include "naming.h"

#include <cctype>

#include "type_facts.h"

namespace kabi {

std::string to_snake_case(std::string_view name) {
    std::string out;
    for (size_t index = 0; index < name.size(); ++index) {
        char current = name[index];
        if (std::isupper(static_cast<unsigned char>(current))) {
            bool previous_lower =
                index > 0 && (std::islower(static_cast<unsigned char>(name[index - 1])) ||
                              std::isdigit(static_cast<unsigned char>(name[index - 1])));
            bool next_lower = index + 1 < name.size() &&
                              std::islower(static_cast<unsigned char>(name[index + 1]));
            bool previous_upper =
                index > 0 && std::isupper(static_cast<unsigned char>(name[index - 1]));
            if (index > 0 && (previous_lower || (previous_upper && next_lower))) out += '_';
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(current)));
        } else {
            out += current;
        }
    }
    return out;
}

std::string to_upper_case(std::string_view name) {
    std::string out = to_snake_case(name);
    for (char& current : out)
        current = static_cast<char>(std::toupper(static_cast<unsigned char>(current)));
    return out;
}

std::string to_camel_case(std::string_view name) {
    std::string out;
    bool upper = true;
    for (char current : name) {
        if (current == '_') {
            upper = true;
            continue;
        }
        out +=
            upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(current))) : current;
        upper = false;
    }
    return out;
}

std::string c_type_name(const std::string& package, const std::string& name) {
    return "umka_" + package + "_" + to_snake_case(name);
}

std::string c_constant_prefix(const std::string& package, const std::string& name) {
    return "UMKA_" + to_upper_case(package) + "_" + to_upper_case(name);
}

std::string cpp_namespace(const std::string& package) {
    return "::umka::kabi::" + package;
}

namespace {
const char* c_builtin(BuiltinType type) {
    switch (type) {
    case BuiltinType::U8:
        return "uint8_t";
    case BuiltinType::U16:
        return "uint16_t";
    case BuiltinType::U32:
        return "uint32_t";
    case BuiltinType::U64:
        return "uint64_t";
    case BuiltinType::I8:
        return "int8_t";
    case BuiltinType::I16:
        return "int16_t";
    case BuiltinType::I32:
        return "int32_t";
    case BuiltinType::I64:
        return "int64_t";
    case BuiltinType::Bool8:
        return "uint8_t";
    case BuiltinType::Status:
        return "int32_t";
    case BuiltinType::DmaAddr:
        return "umka_kabi_dma_addr";
    default:
        return "void";
    }
}
}  // namespace

std::string c_type(const TypeRef& type) {
    if (type.kind == TypeKind::Builtin) return c_builtin(type.builtin);
    return c_type_name(type.owner->package, type.name);
}

std::string cpp_type(const TypeRef& type) {
    if (type.kind == TypeKind::Builtin) return c_builtin(type.builtin);
    return cpp_namespace(type.owner->package) + "::" + type.name;
}

bool returns_status(const Method& method) {
    return method.result && method.result->kind == TypeKind::Builtin &&
           method.result->builtin == BuiltinType::Status;
}

bool returns_nothing(const Method& method) {
    return !method.result.has_value();
}

bool is_span_param(const Param& param) {
    return param.type.kind == TypeKind::Builtin && is_span(param.type.builtin);
}

std::string slot_parameters(const Method& method, Language language) {
    std::string out;
    for (const Param& param : method.params) {
        const TypeRef& type = param.type;
        std::string spelled = language == Language::C ? c_type(type) : cpp_type(type);
        if (is_span_param(param)) {
            const char* pointer = type.builtin == BuiltinType::String  ? "const char*"
                                  : type.builtin == BuiltinType::Bytes ? "const void*"
                                                                       : "void*";
            out += std::string(", ") + pointer + " " + param.name + "_data, uint64_t " +
                   param.name + "_length";
        } else if (param.direction != ParamDirection::In) {
            out += ", " + spelled + "* " + param.name;
        } else if (type.kind == TypeKind::Struct) {
            out += ", const " + spelled + "* " + param.name;
        } else {
            out += ", " + spelled + " " + param.name;
        }
    }
    return out;
}

std::string slot_result(const Method& method, Language language) {
    if (!method.result) return "void";
    return language == Language::C ? c_type(*method.result) : cpp_type(*method.result);
}

std::string slot_arguments(const Method& method) {
    std::string out;
    for (const Param& param : method.params) {
        if (is_span_param(param))
            out += ", " + param.name + "_data, " + param.name + "_length";
        else
            out += ", " + param.name;
    }
    return out;
}

std::string doc_comment(const std::string& doc, const std::string& indent) {
    if (doc.empty()) return {};
    std::string out;
    size_t start = 0;
    while (start <= doc.size()) {
        size_t end = doc.find('\n', start);
        if (end == std::string::npos) end = doc.size();
        std::string line = doc.substr(start, end - start);
        out += indent + "///" + (line.empty() ? "" : " " + line) + "\n";
        start = end + 1;
    }
    return out;
}

}  // namespace kabi
