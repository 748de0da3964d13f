#include "lexer.h"

#include <cctype>

namespace kabi {

const char* token_kind_name(TokenKind kind) {
    switch (kind) {
    case TokenKind::Identifier:
        return "identifier";
    case TokenKind::Integer:
        return "integer";
    case TokenKind::LeftBrace:
        return "'{'";
    case TokenKind::RightBrace:
        return "'}'";
    case TokenKind::LeftParen:
        return "'('";
    case TokenKind::RightParen:
        return "')'";
    case TokenKind::LeftBracket:
        return "'['";
    case TokenKind::RightBracket:
        return "']'";
    case TokenKind::Semicolon:
        return "';'";
    case TokenKind::Colon:
        return "':'";
    case TokenKind::Comma:
        return "','";
    case TokenKind::Dot:
        return "'.'";
    case TokenKind::DotDot:
        return "'..'";
    case TokenKind::At:
        return "'@'";
    case TokenKind::Equals:
        return "'='";
    case TokenKind::Arrow:
        return "'->'";
    case TokenKind::GreaterEqual:
        return "'>='";
    case TokenKind::Pipe:
        return "'|'";
    case TokenKind::EndOfFile:
        return "end of file";
    }
    return "token";
}

namespace {

class Lexer {
public:
    Lexer(const std::string& file, std::string_view text, DiagnosticSink& sink)
        : file_(file), text_(text), sink_(sink) {}

    std::vector<Token> run() {
        std::vector<Token> tokens;
        std::string pending_doc;
        while (true) {
            skip_space_and_comments(pending_doc);
            Token token;
            token.location = here(1);
            if (position_ >= text_.size()) {
                token.kind = TokenKind::EndOfFile;
                tokens.push_back(std::move(token));
                return tokens;
            }
            char current = text_[position_];
            if (std::isalpha(static_cast<unsigned char>(current)) || current == '_') {
                size_t start = position_;
                while (position_ < text_.size() &&
                       (std::isalnum(static_cast<unsigned char>(text_[position_])) ||
                        text_[position_] == '_')) {
                    advance();
                }
                token.kind = TokenKind::Identifier;
                token.text = std::string(text_.substr(start, position_ - start));
            } else if (std::isdigit(static_cast<unsigned char>(current))) {
                if (!lex_integer(token)) continue;
            } else if (!lex_punctuation(token)) {
                continue;
            }
            token.location.length = static_cast<uint32_t>(token.text.size());
            token.doc = std::move(pending_doc);
            pending_doc.clear();
            tokens.push_back(std::move(token));
        }
    }

private:
    SourceLocation here(uint32_t length) const {
        return SourceLocation{file_, line_, column_, length};
    }

    void advance() {
        if (text_[position_] == '\n') {
            ++line_;
            column_ = 1;
        } else {
            ++column_;
        }
        ++position_;
    }

    bool starts_with(std::string_view prefix) const {
        return text_.substr(position_, prefix.size()) == prefix;
    }

    void skip_space_and_comments(std::string& pending_doc) {
        while (position_ < text_.size()) {
            char current = text_[position_];
            if (current == ' ' || current == '\t' || current == '\r' || current == '\n') {
                advance();
            } else if (starts_with("///")) {
                for (int skip = 0; skip < 3; ++skip) advance();
                if (position_ < text_.size() && text_[position_] == ' ') advance();
                size_t start = position_;
                while (position_ < text_.size() && text_[position_] != '\n') advance();
                if (!pending_doc.empty()) pending_doc += '\n';
                pending_doc += std::string(text_.substr(start, position_ - start));
            } else if (starts_with("//")) {
                while (position_ < text_.size() && text_[position_] != '\n') advance();
            } else if (starts_with("/*")) {
                SourceLocation open = here(2);
                advance();
                advance();
                while (position_ < text_.size() && !starts_with("*/")) advance();
                if (position_ >= text_.size()) {
                    sink_.error("unterminated-comment", open, "block comment is never closed",
                                "add '*/' where the comment should end");
                    return;
                }
                advance();
                advance();
            } else {
                return;
            }
        }
    }

    bool lex_integer(Token& token) {
        size_t start = position_;
        int base = 10;
        if (starts_with("0x") || starts_with("0X")) {
            base = 16;
            advance();
            advance();
        } else if (starts_with("0b") || starts_with("0B")) {
            base = 2;
            advance();
            advance();
        }
        uint64_t value = 0;
        bool overflow = false;
        bool any_digit = false;
        while (position_ < text_.size()) {
            char current = text_[position_];
            int digit;
            if (current == '_') {
                advance();  // digit separator: 0xffff_0000
                continue;
            } else if (std::isdigit(static_cast<unsigned char>(current))) {
                digit = current - '0';
            } else if (std::isxdigit(static_cast<unsigned char>(current))) {
                digit = std::tolower(static_cast<unsigned char>(current)) - 'a' + 10;
            } else if (std::isalpha(static_cast<unsigned char>(current))) {
                digit = 99;  // reported below as a bad digit
            } else {
                break;
            }
            if (digit >= base) {
                SourceLocation location = here(1);
                sink_.error("bad-integer", location,
                            std::string("'") + current + "' is not a base-" + std::to_string(base) +
                                " digit",
                            base == 10 ? "write hexadecimal values with a 0x prefix" : "");
                while (position_ < text_.size() &&
                       std::isalnum(static_cast<unsigned char>(text_[position_]))) {
                    advance();
                }
                // Still yield an integer (value 1, harmless as a size or version) so the
                // parser does not report a second, cascading error.
                token.kind = TokenKind::Integer;
                token.text = std::string(text_.substr(start, position_ - start));
                token.value = 1;
                return true;
            }
            if (value > (UINT64_MAX - static_cast<uint64_t>(digit)) / static_cast<uint64_t>(base)) {
                overflow = true;
            }
            value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(digit);
            any_digit = true;
            advance();
        }
        token.kind = TokenKind::Integer;
        token.text = std::string(text_.substr(start, position_ - start));
        token.value = value;
        if (!any_digit || overflow) {
            SourceLocation location = token.location;
            location.length = static_cast<uint32_t>(token.text.size());
            sink_.error("bad-integer", location,
                        overflow ? "integer '" + token.text + "' does not fit in 64 bits"
                                 : "integer '" + token.text + "' has no digits");
            token.value = 1;  // as above: no cascading errors
        }
        return true;
    }

    bool lex_punctuation(Token& token) {
        struct Punctuation {
            std::string_view spelling;
            TokenKind kind;
        };
        static constexpr Punctuation table[] = {
            {"->", TokenKind::Arrow},       {">=", TokenKind::GreaterEqual},
            {"..", TokenKind::DotDot},      {"{", TokenKind::LeftBrace},
            {"}", TokenKind::RightBrace},   {"(", TokenKind::LeftParen},
            {")", TokenKind::RightParen},   {"[", TokenKind::LeftBracket},
            {"]", TokenKind::RightBracket}, {";", TokenKind::Semicolon},
            {":", TokenKind::Colon},        {",", TokenKind::Comma},
            {".", TokenKind::Dot},          {"@", TokenKind::At},
            {"=", TokenKind::Equals},       {"|", TokenKind::Pipe},
        };
        for (const Punctuation& entry : table) {
            if (starts_with(entry.spelling)) {
                token.kind = entry.kind;
                token.text = std::string(entry.spelling);
                for (size_t index = 0; index < entry.spelling.size(); ++index) advance();
                return true;
            }
        }
        unsigned char bad = static_cast<unsigned char>(text_[position_]);
        static constexpr char hex_digits[] = "0123456789abcdef";
        std::string shown =
            std::isprint(bad) ? std::string(1, static_cast<char>(bad))
                              : std::string{'\\', 'x', hex_digits[bad >> 4], hex_digits[bad & 15]};
        sink_.error("unexpected-character", here(1), "unexpected character '" + shown + "'",
                    "remove it; .kabi files use only identifiers, integers and { } ( ) [ ] ; : "
                    ", . .. @ = -> >= |");
        advance();
        return false;
    }

    const std::string& file_;
    std::string_view text_;
    DiagnosticSink& sink_;
    size_t position_ = 0;
    uint32_t line_ = 1;
    uint32_t column_ = 1;
};

}  // namespace

std::vector<Token> tokenize(const std::string& file, std::string_view text, DiagnosticSink& sink) {
    return Lexer(file, text, sink).run();
}

}  // namespace kabi
