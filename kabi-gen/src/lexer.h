// Lexer for .kabi files. Keywords are contextual (the parser decides), so a field may be
// called `version` or `size` without quoting.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "diagnostics.h"

namespace kabi {

enum class TokenKind {
    Identifier,
    Integer,
    LeftBrace,
    RightBrace,
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    Semicolon,
    Colon,
    Comma,
    Dot,
    DotDot,
    At,
    Equals,
    Arrow,         // ->
    GreaterEqual,  // >=
    Pipe,
    EndOfFile,
};

const char* token_kind_name(TokenKind kind);

struct Token {
    TokenKind kind = TokenKind::EndOfFile;
    std::string text;
    uint64_t value = 0;  // for Integer
    SourceLocation location;
    std::string doc;  // `///` comment lines directly above this token, joined by '\n'
};

// Tokenises the whole file; lexical errors go to the sink and the bad bytes are skipped.
std::vector<Token> tokenize(const std::string& file, std::string_view text, DiagnosticSink& sink);

}  // namespace kabi
