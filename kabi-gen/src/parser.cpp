#include "parser.h"

#include <set>
#include <sstream>

#include "lexer.h"

namespace kabi {
namespace {

// Thrown inside one declaration after its error is reported; caught where the parser
// resynchronises. Never escapes parse_file.
struct SyntaxError {};

const std::set<std::string, std::less<>> declaration_keywords = {
    "enum", "flags", "struct", "handle", "vtable", "state", "module"};

class Parser {
public:
    Parser(const std::string& path, std::vector<Token> tokens, DiagnosticSink& sink)
        : tokens_(std::move(tokens)), sink_(sink) {
        file_ = std::make_unique<File>();
        file_->path = path;
    }

    std::unique_ptr<File> run() {
        try {
            parse_header();
        } catch (const SyntaxError&) {
            return std::move(file_);  // without a package header nothing else is meaningful
        }
        while (!at(TokenKind::EndOfFile)) {
            try {
                parse_declaration();
            } catch (const SyntaxError&) {
                synchronize();
            }
        }
        return std::move(file_);
    }

private:
    const Token& peek(size_t ahead = 0) const {
        size_t index = std::min(position_ + ahead, tokens_.size() - 1);
        return tokens_[index];
    }
    bool at(TokenKind kind) const { return peek().kind == kind; }
    bool at_word(std::string_view word) const {
        return peek().kind == TokenKind::Identifier && peek().text == word;
    }
    const Token& take() {
        const Token& token = tokens_[position_];
        if (position_ + 1 < tokens_.size()) ++position_;
        return token;
    }

    [[noreturn]] void fail(const Token& token, const std::string& expected, std::string fix = {}) {
        std::string found =
            token.kind == TokenKind::EndOfFile ? "end of file" : "'" + token.text + "'";
        sink_.error("syntax", token.location, "expected " + expected + ", found " + found,
                    std::move(fix));
        throw SyntaxError{};
    }

    const Token& expect(TokenKind kind, const std::string& context = {}) {
        if (!at(kind)) {
            std::string fix;
            if (kind == TokenKind::Semicolon) fix = "add ';' at the end of the previous item";
            fail(peek(), std::string(token_kind_name(kind)) + context, fix);
        }
        return take();
    }

    void expect_word(std::string_view word, const std::string& context = {}) {
        if (!at_word(word)) fail(peek(), "'" + std::string(word) + "'" + context);
        take();
    }

    const Token& expect_identifier(const std::string& what) {
        if (!at(TokenKind::Identifier)) fail(peek(), what);
        return take();
    }

    uint64_t expect_integer(const std::string& what, SourceLocation* location = nullptr) {
        if (!at(TokenKind::Integer)) fail(peek(), what);
        const Token& token = take();
        if (location) *location = token.location;
        return token.value;
    }

    uint32_t expect_version(const std::string& what, SourceLocation* location = nullptr) {
        SourceLocation where;
        uint64_t value = expect_integer(what, &where);
        if (location) *location = where;
        if (value == 0 || value > UINT32_MAX) {
            sink_.error("bad-version", where,
                        "version " + std::to_string(value) + " is out of range",
                        "versions count from 1 and fit in 32 bits");
        }
        return static_cast<uint32_t>(value);
    }

    // Skips to the start of the next top-level declaration.
    void synchronize() {
        int depth = 0;
        while (!at(TokenKind::EndOfFile)) {
            if (depth == 0 && peek().kind == TokenKind::Identifier &&
                declaration_keywords.count(peek().text) && position_ > 0 &&
                (tokens_[position_ - 1].kind == TokenKind::RightBrace ||
                 tokens_[position_ - 1].kind == TokenKind::Semicolon)) {
                return;
            }
            if (at(TokenKind::LeftBrace)) ++depth;
            if (at(TokenKind::RightBrace) && depth > 0) --depth;
            take();
        }
    }

    void parse_header() {
        if (!at_word("package")) {
            fail(peek(), "'package NAME version N;' at the start of the file",
                 "begin the file with e.g. 'package block_device version 1;'");
        }
        take();
        const Token& name = expect_identifier("a package name");
        file_->package = name.text;
        file_->package_location = name.location;
        expect_word("version", " after the package name");
        file_->version = expect_version("a package version", &file_->version_location);
        expect(TokenKind::Semicolon);
        while (at_word("import")) {
            take();
            const Token& imported = expect_identifier("a package name to import");
            file_->imports.push_back(Import{imported.text, imported.location, nullptr});
            expect(TokenKind::Semicolon);
        }
        if (at_word("policy")) file_->policy = parse_policy_clause(true);
    }

    PolicySpec parse_policy_clause(bool with_semicolon) {
        PolicySpec spec;
        spec.location = take().location;  // 'policy'
        spec.written = true;
        const Token& word = expect_identifier("'strict' or 'flexible'");
        if (word.text == "strict") {
            spec.policy = Policy::Strict;
        } else if (word.text == "flexible") {
            spec.policy = Policy::Flexible;
        } else {
            sink_.error("bad-policy", word.location, "unknown policy '" + word.text + "'",
                        "write 'policy strict' or 'policy flexible'");
        }
        if (with_semicolon) expect(TokenKind::Semicolon);
        return spec;
    }

    TransportSpec parse_transport_clause() {
        TransportSpec spec;
        spec.location = take().location;  // 'transport'
        spec.written = true;
        spec.mask = 0;
        expect(TokenKind::LeftParen, " after 'transport'");
        while (true) {
            const Token& word = expect_identifier("'direct', 'ring' or 'ipc'");
            uint8_t bit = 0;
            if (word.text == "direct")
                bit = TransportDirect;
            else if (word.text == "ring")
                bit = TransportRing;
            else if (word.text == "ipc")
                bit = TransportIpc;
            else {
                std::string guess = closest_name(word.text, {"direct", "ring", "ipc"});
                sink_.error("bad-transport", word.location, "unknown transport '" + word.text + "'",
                            guess.empty() ? "transports are direct, ring and ipc"
                                          : "did you mean '" + guess + "'?");
            }
            if (spec.mask & bit) {
                sink_.error("duplicate-transport", word.location,
                            "transport '" + word.text + "' is listed twice", "remove one");
            }
            spec.mask |= bit;
            if (at(TokenKind::Comma)) {
                take();
                continue;
            }
            break;
        }
        expect(TokenKind::RightParen);
        return spec;
    }

    // watchdog N ms;
    void parse_watchdog_clause(ModuleDecl& decl) {
        decl.watchdog_location = take().location;  // 'watchdog'
        uint64_t limit = expect_integer("a limit in milliseconds");
        expect_word("ms", " after the watchdog limit ('watchdog 1000 ms;')");
        expect(TokenKind::Semicolon);
        if (limit == 0 || limit > kMaximumWatchdogMs) {
            sink_.error("bad-watchdog", decl.watchdog_location,
                        "watchdog limit " + std::to_string(limit) + " ms is not valid",
                        "a guarded call may run 1 to " + std::to_string(kMaximumWatchdogMs) +
                            " ms; write e.g. 'watchdog 1000 ms;'");
            return;
        }
        decl.watchdog_ms = static_cast<uint32_t>(limit);
    }

    TierSpec parse_tier_clause() {
        TierSpec spec;
        spec.location = take().location;  // 'tier'
        spec.written = true;
        uint64_t minimum = expect_integer("a minimum tier (0, 1 or 2)");
        expect(TokenKind::DotDot, " between the minimum and maximum tier");
        uint64_t maximum = expect_integer("a maximum tier (0, 1 or 2)");
        if (minimum > 2 || maximum > 2 || minimum > maximum) {
            sink_.error(
                "bad-tier", spec.location,
                "tier range " + std::to_string(minimum) + ".." + std::to_string(maximum) +
                    " is not valid",
                "tiers are 0 (direct), 1 (ring) and 2 (user process); write e.g. 'tier 0..1'");
        }
        spec.minimum = static_cast<uint8_t>(std::min<uint64_t>(minimum, 2));
        spec.maximum = static_cast<uint8_t>(std::min<uint64_t>(maximum, 2));
        return spec;
    }

    TypeRef parse_type() {
        TypeRef type;
        const Token& first = expect_identifier("a type");
        type.location = first.location;
        type.name = first.text;
        if (at(TokenKind::Dot)) {
            take();
            const Token& second = expect_identifier("a type name after '" + first.text + ".'");
            type.package = first.text;
            type.name = second.text;
            type.location.length =
                second.location.column + second.location.length - first.location.column;
        }
        if (at(TokenKind::LeftBracket)) {
            type.array_location = take().location;
            type.array_length = expect_integer("an array length");
            expect(TokenKind::RightBracket);
            if (type.array_length == 0) {
                sink_.error("zero-length-array", type.array_location,
                            "arrays must have at least one element",
                            "remove the field, or give the array a length");
                type.array_length = 1;
            }
            if (at(TokenKind::LeftBracket)) {
                sink_.error("nested-array", peek().location, "arrays of arrays are not supported",
                            "flatten it: '" + type.spelling() +
                                "' of N*M elements, or an array of a struct");
                throw SyntaxError{};
            }
        }
        return type;
    }

    void parse_declaration() {
        const Token& keyword = peek();
        std::string doc = keyword.doc;
        if (keyword.kind != TokenKind::Identifier || !declaration_keywords.count(keyword.text)) {
            std::string fix;
            if (keyword.kind == TokenKind::Identifier) {
                std::string guess = closest_name(
                    keyword.text, {declaration_keywords.begin(), declaration_keywords.end()});
                if (!guess.empty()) fix = "did you mean '" + guess + "'?";
                if (keyword.text == "import" || keyword.text == "policy") {
                    fix = "'" + keyword.text + "' belongs right after the package line";
                }
            }
            take();
            sink_.error("syntax", keyword.location,
                        "expected a declaration (enum, flags, struct, handle, vtable, state, "
                        "module), found '" +
                            keyword.text + "'",
                        fix);
            throw SyntaxError{};
        }
        take();
        if (keyword.text == "enum" || keyword.text == "flags")
            parse_enum(keyword.text == "flags", doc);
        else if (keyword.text == "struct")
            parse_struct(doc);
        else if (keyword.text == "handle")
            parse_handle(doc);
        else if (keyword.text == "vtable")
            parse_vtable(doc);
        else if (keyword.text == "state")
            parse_state(doc);
        else
            parse_module(doc);
    }

    void record(DeclarationKind kind, size_t index) { file_->order.push_back({kind, index}); }

    void parse_enum(bool is_flags, const std::string& doc) {
        EnumDecl decl;
        decl.is_flags = is_flags;
        decl.doc = doc;
        const Token& name = expect_identifier(is_flags ? "a flags name" : "an enum name");
        decl.name = name.text;
        decl.location = name.location;
        expect(TokenKind::Colon, is_flags
                                     ? " and an unsigned type (flags need a width: 'flags F : u32')"
                                     : " and an underlying type ('enum E : u32')");
        decl.underlying = parse_type();
        expect(TokenKind::LeftBrace);
        while (!at(TokenKind::RightBrace)) {
            EnumMember member;
            member.doc = peek().doc;
            const Token& member_name = expect_identifier("a member name or '}'");
            member.name = member_name.text;
            member.location = member_name.location;
            if (!at(TokenKind::Equals)) {
                fail(peek(), "'=' and an explicit value",
                     "every member needs an explicit value: '" + member.name + " = N,'");
            }
            take();
            member.value = expect_integer("a value", &member.value_location);
            decl.members.push_back(std::move(member));
            if (at(TokenKind::Comma))
                take();
            else if (!at(TokenKind::RightBrace))
                fail(peek(), "',' or '}'");
        }
        take();
        file_->enums.push_back(std::move(decl));
        record(DeclarationKind::Enum, file_->enums.size() - 1);
    }

    void parse_struct(const std::string& doc) {
        StructDecl decl;
        decl.doc = doc;
        const Token& name = expect_identifier("a struct name");
        decl.name = name.text;
        decl.location = name.location;
        if (!at_word("size")) {
            fail(
                peek(), "'size N align A'",
                "structs declare their layout: 'struct " + decl.name + " size 16 align 8 { ... }'");
        }
        take();
        decl.declared_size = expect_integer("the struct size in bytes", &decl.size_location);
        expect_word("align", " after the struct size");
        decl.declared_alignment =
            expect_integer("the struct alignment in bytes", &decl.alignment_location);
        expect(TokenKind::LeftBrace);
        while (!at(TokenKind::RightBrace)) {
            Field field;
            field.doc = peek().doc;
            const Token& field_name = expect_identifier("a field name or '}'");
            field.name = field_name.text;
            field.location = field_name.location;
            expect(TokenKind::Colon, " between the field name and its type");
            field.type = parse_type();
            expect(TokenKind::Semicolon);
            decl.fields.push_back(std::move(field));
        }
        take();
        file_->structs.push_back(std::move(decl));
        record(DeclarationKind::Struct, file_->structs.size() - 1);
    }

    void parse_handle(const std::string& doc) {
        HandleDecl decl;
        decl.doc = doc;
        const Token& name = expect_identifier("a handle name");
        decl.name = name.text;
        decl.location = name.location;
        expect(TokenKind::Semicolon);
        file_->handles.push_back(std::move(decl));
        record(DeclarationKind::Handle, file_->handles.size() - 1);
    }

    void parse_vtable(const std::string& doc) {
        VtableDecl decl;
        decl.doc = doc;
        const Token& name = expect_identifier("a vtable name");
        decl.name = name.text;
        decl.location = name.location;
        expect_word("version",
                    " after the vtable name ('vtable " + decl.name + " version 1 { ... }')");
        decl.version = expect_version("the vtable version", &decl.version_location);
        while (!at(TokenKind::LeftBrace)) {
            if (at_word("policy"))
                decl.policy = parse_policy_clause(false);
            else if (at_word("transport"))
                decl.transport = parse_transport_clause();
            else if (at_word("tier"))
                decl.tier = parse_tier_clause();
            else
                fail(peek(), "'{' or a vtable attribute (policy, transport, tier)");
        }
        take();
        while (!at(TokenKind::RightBrace)) decl.methods.push_back(parse_method());
        take();
        file_->vtables.push_back(std::move(decl));
        record(DeclarationKind::Vtable, file_->vtables.size() - 1);
    }

    Method parse_method() {
        Method method;
        method.doc = peek().doc;
        if (!at(TokenKind::At)) {
            fail(peek(), "'@ORDINAL' before the method",
                 "every method carries a stable ordinal: '@0 name(...) since 1;'");
        }
        take();
        method.ordinal = static_cast<uint32_t>(std::min<uint64_t>(
            expect_integer("the method ordinal", &method.ordinal_location), 0xffff'ffff));
        if (at_word("tombstone") && peek(1).kind == TokenKind::Identifier) {
            take();
            method.tombstone = true;
            const Token& name = take();
            method.name = name.text;
            method.location = name.location;
            expect_word("since", " (a tombstone keeps the version that added the method)");
            method.since =
                expect_version("the version that added the method", &method.since_location);
            expect_word("removed", " and the version that removed the method");
            method.removed = expect_version("the version that removed the method");
            expect(TokenKind::Semicolon);
            return method;
        }
        const Token& name = expect_identifier("a method name");
        method.name = name.text;
        method.location = name.location;
        expect(TokenKind::LeftParen, " after the method name");
        while (!at(TokenKind::RightParen)) {
            Param param;
            if ((at_word("in") || at_word("out") || at_word("inout")) &&
                peek(1).kind == TokenKind::Identifier) {
                const Token& direction = take();
                param.direction_written = true;
                param.direction = direction.text == "in"    ? ParamDirection::In
                                  : direction.text == "out" ? ParamDirection::Out
                                                            : ParamDirection::InOut;
            }
            const Token& param_name = expect_identifier("a parameter name");
            param.name = param_name.text;
            param.location = param_name.location;
            expect(TokenKind::Colon, " between the parameter name and its type");
            param.type = parse_type();
            method.params.push_back(std::move(param));
            if (at(TokenKind::Comma))
                take();
            else if (!at(TokenKind::RightParen))
                fail(peek(), "',' or ')'");
        }
        take();
        if (at(TokenKind::Arrow)) {
            take();
            method.result = parse_type();
        }
        if (!at_word("since")) {
            fail(peek(), "'since N'", "methods record the version that added them: '... since 1;'");
        }
        take();
        method.since = expect_version("the version that added the method", &method.since_location);
        if (at_word("errors")) {
            take();
            expect(TokenKind::LeftParen, " after 'errors'");
            while (!at(TokenKind::RightParen)) {
                const Token& error = expect_identifier("an errno name such as EIO");
                method.errors.push_back(ErrorRef{error.text, 0, error.location});
                if (at(TokenKind::Comma))
                    take();
                else if (!at(TokenKind::RightParen))
                    fail(peek(), "',' or ')'");
            }
            take();
        }
        expect(TokenKind::Semicolon);
        return method;
    }

    void parse_state(const std::string& doc) {
        StateDecl decl;
        decl.doc = doc;
        const Token& name = expect_identifier("a state name");
        decl.name = name.text;
        decl.location = name.location;
        expect_word("version",
                    " after the state name ('state " + decl.name + " version 1 { ... }')");
        decl.version = expect_version("the state schema version", &decl.version_location);
        if (at_word("policy")) decl.policy = parse_policy_clause(false);
        expect(TokenKind::LeftBrace);
        while (!at(TokenKind::RightBrace)) {
            if (at_word("migrate") && peek(1).kind == TokenKind::Identifier &&
                peek(1).text == "from") {
                Migration migration;
                migration.location = take().location;
                take();
                migration.from_version = expect_version("the version the hook migrates from");
                expect(TokenKind::Semicolon);
                decl.migrations.push_back(migration);
                continue;
            }
            Field field;
            field.doc = peek().doc;
            const Token& field_name = expect_identifier("a field name, 'migrate from N;' or '}'");
            field.name = field_name.text;
            field.location = field_name.location;
            expect(TokenKind::Colon, " between the field name and its type");
            field.type = parse_type();
            if (!at_word("since")) {
                fail(peek(), "'since N'", "state fields record the schema version that added them");
            }
            take();
            field.since =
                expect_version("the schema version that added the field", &field.since_location);
            if (at_word("removed")) {
                take();
                field.removed = expect_version("the schema version that removed the field");
            }
            expect(TokenKind::Semicolon);
            decl.fields.push_back(std::move(field));
        }
        take();
        file_->states.push_back(std::move(decl));
        record(DeclarationKind::State, file_->states.size() - 1);
    }

    InterfaceRef parse_interface_reference() {
        InterfaceRef reference;
        const Token& first = expect_identifier("an interface (vtable) name");
        reference.location = first.location;
        reference.name = first.text;
        if (at(TokenKind::Dot)) {
            take();
            const Token& second = expect_identifier("a vtable name");
            reference.package = first.text;
            reference.name = second.text;
            reference.location.length =
                second.location.column + second.location.length - first.location.column;
        }
        return reference;
    }

    // An ID of `bits` bits: a hexadecimal literal, refused with its location when larger.
    uint16_t expect_id(const std::string& what, uint64_t limit) {
        SourceLocation where;
        uint64_t value = expect_integer(what, &where);
        if (value > limit) {
            std::ostringstream hint;
            hint << "PCI " << what << "s fit in " << (limit == 0xFF ? 8 : 16) << " bits (0x0..0x"
                 << std::hex << limit << ")";
            sink_.error("bad-match", where, what + " " + std::to_string(value) + " is out of range",
                        hint.str());
        }
        return static_cast<uint16_t>(value & limit);
    }

    // matches pci vendor 0x1af4 device 0x1042;   matches pci class 0x01 subclass 0x00;
    DeviceMatchDecl parse_device_match() {
        DeviceMatchDecl match;
        match.location = take().location;  // 'matches'
        if (!at_word("pci")) fail(peek(), "a bus after 'matches' (only 'pci' is known)");
        take();
        if (at_word("vendor")) {
            take();
            match.kind = DeviceMatchKind::VendorDevice;
            match.first = expect_id("a vendor ID", 0xFFFF);
            expect_word("device", " after the vendor ID ('matches pci vendor V device D;')");
            match.second = expect_id("a device ID", 0xFFFF);
        } else if (at_word("class")) {
            take();
            match.kind = DeviceMatchKind::Class;
            uint16_t class_code = expect_id("a class code", 0xFF);
            expect_word("subclass", " after the class code ('matches pci class C subclass S;')");
            match.first = uint16_t(class_code << 8 | expect_id("a subclass code", 0xFF));
        } else {
            fail(peek(), "'vendor' or 'class' after 'matches pci'");
        }
        expect(TokenKind::Semicolon);
        return match;
    }

    void parse_module(const std::string& doc) {
        ModuleDecl decl;
        decl.doc = doc;
        const Token& name = expect_identifier("a module name");
        decl.name = name.text;
        decl.location = name.location;
        expect_word("version", " after the module name");
        decl.version = expect_version("the module version", &decl.version_location);
        expect(TokenKind::LeftBrace);
        while (!at(TokenKind::RightBrace)) {
            if (at_word("provides")) {
                take();
                InterfaceRef reference = parse_interface_reference();
                expect_word("version", " ('provides NAME version N;')");
                reference.version = expect_version("the provided version");
                expect(TokenKind::Semicolon);
                decl.provides.push_back(std::move(reference));
            } else if (at_word("requires")) {
                take();
                InterfaceRef reference = parse_interface_reference();
                expect(TokenKind::GreaterEqual, " and a minimum version ('requires NAME >= N;')");
                reference.version = expect_version("the minimum version");
                expect(TokenKind::Semicolon);
                decl.requires_.push_back(std::move(reference));
            } else if (at_word("transport")) {
                decl.transport = parse_transport_clause();
                expect(TokenKind::Semicolon);
            } else if (at_word("tier")) {
                decl.tier = parse_tier_clause();
                expect(TokenKind::Semicolon);
            } else if (at_word("state")) {
                take();
                const Token& state = expect_identifier("a state schema name");
                decl.states.push_back(StateRef{state.text, state.location, nullptr});
                expect(TokenKind::Semicolon);
            } else if (at_word("matches")) {
                decl.matches.push_back(parse_device_match());
            } else if (at_word("watchdog")) {
                parse_watchdog_clause(decl);
            } else {
                fail(peek(),
                     "'provides', 'requires', 'transport', 'tier', 'state', 'matches', "
                     "'watchdog' or '}'");
            }
        }
        take();
        file_->modules.push_back(std::move(decl));
        record(DeclarationKind::Module, file_->modules.size() - 1);
    }

    std::vector<Token> tokens_;
    size_t position_ = 0;
    DiagnosticSink& sink_;
    std::unique_ptr<File> file_;
};

}  // namespace

std::unique_ptr<File> parse_file(const std::string& path, std::string_view text,
                                 DiagnosticSink& sink) {
    sink.add_source(path, text);
    std::vector<Token> tokens = tokenize(path, text, sink);
    return Parser(path, std::move(tokens), sink).run();
}

}  // namespace kabi
