// The syntax tree of one .kabi file, plus the facts semantic analysis fills in (resolved
// types, sizes, offsets). Emitters and the compat checker read only checked trees.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "diagnostics.h"

namespace kabi {

struct EnumDecl;
struct StructDecl;
struct HandleDecl;
struct VtableDecl;
struct File;

enum class BuiltinType {
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
    Bool8,     // one byte, 0 or 1
    Status,    // int32: 0 or a positive Linux errno value
    DmaAddr,   // a device-visible (bus) address: what a device's DMA engine is given
    String,    // parameter only: (const char* data, uint64 length), not NUL-terminated
    Bytes,     // parameter only: (const void* data, uint64 length)
    BytesMut,  // parameter only: (void* data, uint64 length)
};

enum class TypeKind { Unresolved, Builtin, Enum, Flags, Struct, Handle };

struct TypeRef {
    SourceLocation location;
    std::string package;  // set when written qualified: `kernel_services.DmaBuffer`
    std::string name;
    uint64_t array_length = 0;  // 0: not an array
    SourceLocation array_location;

    // Filled by semantic analysis.
    TypeKind kind = TypeKind::Unresolved;
    BuiltinType builtin = BuiltinType::U8;
    const EnumDecl* enum_decl = nullptr;  // Enum and Flags
    const StructDecl* struct_decl = nullptr;
    const HandleDecl* handle_decl = nullptr;
    const File* owner = nullptr;  // the file declaring the named type
    uint64_t size = 0;            // whole type, including the array
    uint64_t alignment = 0;

    // `u32`, `Geometry`, `kernel_services.Handle[4]`: how the user spelled it.
    std::string spelling() const {
        std::string text = package.empty() ? name : package + "." + name;
        if (array_length != 0) text += "[" + std::to_string(array_length) + "]";
        return text;
    }
};

struct EnumMember {
    std::string name;
    uint64_t value = 0;
    SourceLocation location;
    SourceLocation value_location;
    std::string doc;
};

enum class Policy { Strict, Flexible };

struct EnumDecl {
    std::string name;
    SourceLocation location;
    std::string doc;
    bool is_flags = false;
    TypeRef underlying;
    std::vector<EnumMember> members;
};

struct Field {
    std::string name;
    TypeRef type;
    SourceLocation location;
    std::string doc;
    uint32_t since = 0;    // state fields only
    uint32_t removed = 0;  // state fields only; 0 means still present
    SourceLocation since_location;
    uint64_t offset = 0;  // filled by semantic analysis (structs: fixed; states: current version)
};

struct StructDecl {
    std::string name;
    SourceLocation location;
    std::string doc;
    uint64_t declared_size = 0;
    uint64_t declared_alignment = 0;
    SourceLocation size_location;
    SourceLocation alignment_location;
    std::vector<Field> fields;
};

struct HandleDecl {
    std::string name;
    SourceLocation location;
    std::string doc;
};

enum class ParamDirection { In, Out, InOut };

struct Param {
    std::string name;
    ParamDirection direction = ParamDirection::In;
    bool direction_written = false;
    TypeRef type;
    SourceLocation location;
};

struct ErrorRef {
    std::string name;
    int32_t value = 0;  // filled by semantic analysis
    SourceLocation location;
};

struct Method {
    uint32_t ordinal = 0;
    SourceLocation ordinal_location;
    std::string name;
    SourceLocation location;
    std::string doc;
    bool tombstone = false;
    std::vector<Param> params;
    std::optional<TypeRef> result;  // absent: the method returns nothing
    uint32_t since = 0;
    SourceLocation since_location;
    uint32_t removed = 0;  // tombstones: the version that removed the method
    std::vector<ErrorRef> errors;
};

// bit0 direct, bit1 ring, bit2 IPC: the manifest's transport mask.
enum TransportBit : uint8_t { TransportDirect = 1, TransportRing = 2, TransportIpc = 4 };

struct TransportSpec {
    uint8_t mask = TransportDirect | TransportRing | TransportIpc;
    bool written = false;
    SourceLocation location;
};

struct TierSpec {
    uint8_t minimum = 0;
    uint8_t maximum = 2;
    bool written = false;
    SourceLocation location;
};

struct PolicySpec {
    Policy policy = Policy::Flexible;
    bool written = false;
    SourceLocation location;
};

struct VtableDecl {
    std::string name;
    SourceLocation location;
    std::string doc;
    uint32_t version = 0;
    SourceLocation version_location;
    PolicySpec policy;  // falls back to the file's policy when not written
    TransportSpec transport;
    TierSpec tier;
    std::vector<Method> methods;  // declaration order; the ABI order is by ordinal

    const Method* method_at(uint32_t ordinal) const {
        for (const Method& method : methods) {
            if (method.ordinal == ordinal) return &method;
        }
        return nullptr;
    }
    uint32_t slot_count() const {
        uint32_t count = 0;
        for (const Method& method : methods) count = std::max(count, method.ordinal + 1);
        return count;
    }
};

struct Migration {
    uint32_t from_version = 0;
    SourceLocation location;
};

struct StateDecl {
    std::string name;
    SourceLocation location;
    std::string doc;
    uint32_t version = 0;
    SourceLocation version_location;
    PolicySpec policy;
    std::vector<Field> fields;
    std::vector<Migration> migrations;
};

struct InterfaceRef {
    std::string package;
    std::string name;
    uint32_t version = 0;  // provides: the version implemented; requires: the minimum
    SourceLocation location;
    const VtableDecl* resolved = nullptr;
    const File* owner = nullptr;
};

struct StateRef {
    std::string name;
    SourceLocation location;
    const StateDecl* resolved = nullptr;
};

// A device a driver module drives (`matches pci vendor V device D;` or
// `matches pci class C subclass S;`): the nucleus's device registry binds each published
// device that fits to the module. Values as in kabi_base.h's umka_kabi_manifest_match.
enum class DeviceMatchKind : uint8_t { VendorDevice = 1, Class = 2 };
inline constexpr size_t kMaximumDeviceMatches = 4;  // UMKA_KABI_MAXIMUM_MATCHES

struct DeviceMatchDecl {
    DeviceMatchKind kind = DeviceMatchKind::VendorDevice;
    uint16_t first = 0;   // vendor ID, or class << 8 | subclass
    uint16_t second = 0;  // device ID; 0 for a class match
    SourceLocation location;
};

struct ModuleDecl {
    std::string name;
    SourceLocation location;
    std::string doc;
    uint32_t version = 0;
    SourceLocation version_location;
    std::vector<InterfaceRef> provides;
    std::vector<InterfaceRef> requires_;
    TransportSpec transport;
    TierSpec tier;
    std::vector<StateRef> states;
    std::vector<DeviceMatchDecl> matches;
    // `watchdog N ms;`: how long one guarded call into the module may run before the
    // nucleus stops it (0: not written, the nucleus's default).
    uint32_t watchdog_ms = 0;
    SourceLocation watchdog_location;
};

// The range a `watchdog` clause may name (the nucleus refuses a manifest outside it too).
inline constexpr uint64_t kMaximumWatchdogMs = 60'000;

struct Import {
    std::string package;
    SourceLocation location;
    const File* file = nullptr;
};

enum class DeclarationKind { Enum, Struct, Handle, Vtable, State, Module };

struct DeclarationEntry {
    DeclarationKind kind;
    size_t index;  // into the vector of that kind
};

struct File {
    std::string path;
    std::string package;
    SourceLocation package_location;
    uint32_t version = 0;
    SourceLocation version_location;
    std::vector<Import> imports;
    PolicySpec policy;
    std::vector<EnumDecl> enums;  // enums and flags
    std::vector<StructDecl> structs;
    std::vector<HandleDecl> handles;
    std::vector<VtableDecl> vtables;
    std::vector<StateDecl> states;
    std::vector<ModuleDecl> modules;
    std::vector<DeclarationEntry> order;  // declaration order, which is emission order
};

inline Policy effective_policy(const File& file, const PolicySpec& own) {
    return own.written ? own.policy : file.policy.policy;
}

}  // namespace kabi
