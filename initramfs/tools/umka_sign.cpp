// umka-sign: module signing keys and signatures for UmkaOS (docs/module-signing.md).
//
//   umka-sign keygen --secret FILE [--public FILE]
//   umka-sign public --secret FILE --output FILE
//   umka-sign sign --secret FILE --output OUT [--unchecked] MODULE.elf
//   umka-sign verify --public FILE SIGNED
//   umka-sign public-header --public FILE --output HEADER.h
//
// Keys are raw libsodium Ed25519 keys: the secret file holds 64 bytes (seed, then public
// key), the public file 32. Exit status: 0 success, 1 failure (the message says what),
// 2 usage error.
//
// `sign` signs only a module the module check accepts (the nucleus loader's verdict, see
// module_rules.h). --unchecked skips that check: only for test fixtures whose point is a
// signed module the loader must refuse (a writable global, a bad manifest).
#include <sodium.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "initramfs/tools/command_line.h"
#include "initramfs/tools/file_io.h"
#include "initramfs/tools/module_rules.h"
#include "nucleus/crypto/module_signature.h"

namespace {

using umka::tools::Overwrite;
using Bytes = std::vector<uint8_t>;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int usage(const std::string& problem) {
    std::fprintf(stderr,
                 "umka-sign: %s\n"
                 "usage: umka-sign keygen --secret FILE [--public FILE]\n"
                 "       umka-sign public --secret FILE --output FILE\n"
                 "       umka-sign sign --secret FILE --output OUT [--unchecked] MODULE.elf\n"
                 "       umka-sign verify --public FILE SIGNED\n"
                 "       umka-sign public-header --public FILE --output HEADER.h\n",
                 problem.c_str());
    return kExitUsage;
}

int failure(const std::string& message) {
    std::fprintf(stderr, "umka-sign: %s\n", message.c_str());
    return kExitFailure;
}

using umka::tools::Arguments;

std::string hex(const uint8_t* bytes, size_t length) {
    static const char digits[] = "0123456789abcdef";
    std::string text;
    for (size_t index = 0; index < length; ++index) {
        text += digits[bytes[index] >> 4];
        text += digits[bytes[index] & 15];
    }
    return text;
}

// Reads a 64-byte libsodium secret key and checks that its public half is the one its
// seed derives, so a corrupted or truncated key file is caught before it signs anything.
bool read_secret_key(const std::string& path, Bytes& secret, std::string& error) {
    auto bytes = umka::tools::read_file(path, umka::tools::kKeyFileSizeLimit, error);
    if (!bytes) return false;
    if (bytes->size() != crypto_sign_SECRETKEYBYTES) {
        error = "secret key " + path + " has " + std::to_string(bytes->size()) +
                " bytes; an Ed25519 secret key file holds exactly " +
                std::to_string(crypto_sign_SECRETKEYBYTES);
        return false;
    }
    uint8_t seed[crypto_sign_SEEDBYTES];
    uint8_t public_key[crypto_sign_PUBLICKEYBYTES];
    uint8_t rebuilt[crypto_sign_SECRETKEYBYTES];
    crypto_sign_ed25519_sk_to_seed(seed, bytes->data());
    crypto_sign_seed_keypair(public_key, rebuilt, seed);
    sodium_memzero(seed, sizeof(seed));
    bool consistent = sodium_memcmp(rebuilt, bytes->data(), sizeof(rebuilt)) == 0;
    sodium_memzero(rebuilt, sizeof(rebuilt));
    if (!consistent) {
        error = "secret key " + path + " is corrupt: its public half does not match its seed";
        return false;
    }
    secret = std::move(*bytes);
    return true;
}

bool read_public_key(const std::string& path, Bytes& public_key, std::string& error) {
    auto bytes = umka::tools::read_file(path, umka::tools::kKeyFileSizeLimit, error);
    if (!bytes) return false;
    if (bytes->size() != crypto_sign_PUBLICKEYBYTES) {
        error = "public key " + path + " has " + std::to_string(bytes->size()) +
                " bytes; an Ed25519 public key file holds exactly " +
                std::to_string(crypto_sign_PUBLICKEYBYTES);
        return false;
    }
    public_key = std::move(*bytes);
    return true;
}

Bytes public_half(const Bytes& secret) {
    Bytes public_key(crypto_sign_PUBLICKEYBYTES);
    crypto_sign_ed25519_sk_to_pk(public_key.data(), secret.data());
    return public_key;
}

int command_keygen(const Arguments& arguments) {
    if (!arguments.options.count("--secret")) return usage("keygen needs --secret FILE");
    if (!arguments.positional.empty()) return usage("keygen takes no positional arguments");
    const std::string& secret_path = arguments.options.at("--secret");
    Bytes public_key(crypto_sign_PUBLICKEYBYTES);
    Bytes secret(crypto_sign_SECRETKEYBYTES);
    crypto_sign_keypair(public_key.data(), secret.data());
    std::string error;
    // Check the public path first so a refusal there leaves no orphaned secret key behind.
    auto public_option = arguments.options.find("--public");
    if (public_option != arguments.options.end() &&
        ::access(public_option->second.c_str(), F_OK) == 0) {
        return failure("refusing to overwrite existing " + public_option->second);
    }
    bool written = umka::tools::write_file(secret_path, secret, 0600, Overwrite::Refuse, error);
    sodium_memzero(secret.data(), secret.size());
    if (!written) return failure(error);
    if (public_option != arguments.options.end() &&
        !umka::tools::write_file(public_option->second, public_key, 0644, Overwrite::Refuse,
                                 error)) {
        return failure(error);
    }
    std::printf("umka-sign: new key pair: secret %s, public key %s\n", secret_path.c_str(),
                hex(public_key.data(), public_key.size()).c_str());
    return 0;
}

int command_public(const Arguments& arguments) {
    if (!arguments.options.count("--secret") || !arguments.options.count("--output")) {
        return usage("public needs --secret FILE --output FILE");
    }
    std::string error;
    Bytes secret;
    if (!read_secret_key(arguments.options.at("--secret"), secret, error)) return failure(error);
    Bytes public_key = public_half(secret);
    sodium_memzero(secret.data(), secret.size());
    if (!umka::tools::write_file(arguments.options.at("--output"), public_key, 0644,
                                 Overwrite::Replace, error)) {
        return failure(error);
    }
    return 0;
}

int command_sign(const Arguments& arguments) {
    if (!arguments.options.count("--secret") || !arguments.options.count("--output") ||
        arguments.positional.size() != 1) {
        return usage("sign needs --secret FILE --output OUT and one MODULE");
    }
    const std::string& module_path = arguments.positional[0];
    std::string error;
    Bytes secret;
    if (!read_secret_key(arguments.options.at("--secret"), secret, error)) return failure(error);
    auto image = umka::tools::read_file(module_path, umka::tools::kModuleFileSizeLimit, error);
    if (!image) return failure(error);
    if (image->empty()) return failure(module_path + ": module is empty; nothing to sign");
    if (umka::crypto::has_module_signature_trailer(image->data(), image->size())) {
        return failure(module_path + ": already signed (ends with a UMKASIG1 trailer)");
    }
    // A signature vouches for a module the nucleus will load: sign only what umka-modcheck
    // (the loader's rules, with names) accepts, so a truncated or broken ELF never carries
    // a valid signature.
    umka::tools::ModuleFacts facts;
    std::vector<umka::tools::Violation> violations;
    if (!arguments.options.count("--unchecked")) {
        violations = umka::tools::check_module(image->data(), image->size(), facts);
    }
    if (!violations.empty()) {
        std::string reasons;
        for (const umka::tools::Violation& violation : violations) {
            reasons += "\n  " + violation.rule + ": " + violation.detail;
        }
        return failure(module_path + ": not signed, the module check refuses it:" + reasons);
    }

    uint8_t signature[crypto_sign_BYTES];
    crypto_sign_detached(signature, nullptr, image->data(), image->size(), secret.data());
    sodium_memzero(secret.data(), secret.size());

    Bytes output = *image;
    output.insert(output.end(), signature, signature + sizeof(signature));
    output.insert(output.end(), umka::crypto::kModuleSignatureMagic,
                  umka::crypto::kModuleSignatureMagic + 8);
    uint64_t signed_length = image->size();
    for (int index = 0; index < 8; ++index) output.push_back(uint8_t(signed_length >> (8 * index)));
    if (!umka::tools::write_file(arguments.options.at("--output"), output, 0644, Overwrite::Replace,
                                 error)) {
        return failure(error);
    }
    return 0;
}

int command_verify(const Arguments& arguments) {
    if (!arguments.options.count("--public") || arguments.positional.size() != 1) {
        return usage("verify needs --public FILE and one SIGNED module");
    }
    const std::string& path = arguments.positional[0];
    std::string error;
    Bytes public_key;
    if (!read_public_key(arguments.options.at("--public"), public_key, error)) {
        return failure(error);
    }
    auto file = umka::tools::read_file(path, umka::tools::kModuleFileSizeLimit, error);
    if (!file) return failure(error);

    umka::crypto::SignedModuleView view;
    const char* reason = nullptr;
    if (umka::crypto::split_signed_module(file->data(), file->size(), view, &reason).is_error()) {
        return failure(path + ": " + reason);
    }
    bool sodium_valid = crypto_sign_verify_detached(view.signature, view.image, view.image_size,
                                                    public_key.data()) == 0;
    // The nucleus's own verifier must agree with libsodium on every module we build; a
    // disagreement is a verifier bug, reported as such rather than hidden.
    umka::Status nucleus = umka::crypto::verify_module_signature(view, public_key.data(), &reason);
    if (sodium_valid != nucleus.is_ok()) {
        return failure(path + ": verifiers disagree: libsodium says " +
                       (sodium_valid ? "valid" : "invalid") + ", the nucleus verifier says " +
                       (nucleus.is_ok() ? "valid" : reason));
    }
    if (!sodium_valid) return failure(path + ": " + reason);
    std::printf("umka-sign: %s: signature OK (%zu bytes signed, key %s)\n", path.c_str(),
                view.image_size, hex(public_key.data(), 8).c_str());
    return 0;
}

int command_public_header(const Arguments& arguments) {
    if (!arguments.options.count("--public") || !arguments.options.count("--output")) {
        return usage("public-header needs --public FILE --output HEADER.h");
    }
    const std::string& public_path = arguments.options.at("--public");
    const std::string& header_path = arguments.options.at("--output");
    std::string error;
    Bytes public_key;
    if (!read_public_key(public_path, public_key, error)) return failure(error);

    std::string text = "// Generated by umka-sign public-header from " + public_path +
                       ". Do not edit.\n"
                       "// The Ed25519 public key the nucleus verifies module signatures with\n"
                       "// (docs/module-signing.md). Key: " +
                       hex(public_key.data(), public_key.size()) +
                       "\n"
                       "#pragma once\n\n#include <stdint.h>\n\nnamespace umka::crypto {\n\n"
                       "inline constexpr uint8_t kModuleSigningPublicKey[32] = {\n";
    for (size_t index = 0; index < public_key.size(); ++index) {
        if (index % 8 == 0) text += "   ";
        char byte[8];
        std::snprintf(byte, sizeof(byte), " 0x%02x,", public_key[index]);
        text += byte;
        if (index % 8 == 7) text += "\n";
    }
    text += "};\n\n}  // namespace umka::crypto\n";

    // Rewrite only on change: the header is included by the nucleus, and an unchanged key
    // must not trigger a rebuild.
    std::string ignored;
    auto existing = umka::tools::read_file(header_path, text.size(), ignored);
    if (existing && std::string(existing->begin(), existing->end()) == text) return 0;
    if (!umka::tools::write_file(header_path, Bytes(text.begin(), text.end()), 0644,
                                 Overwrite::Replace, error)) {
        return failure(error);
    }
    return 0;
}

}  // namespace

int main(int count, char** values) {
    if (count < 2) return usage("missing command");
    if (sodium_init() < 0) return failure("libsodium failed to initialise");
    std::string command = values[1];
    Arguments arguments;
    std::string problem;
    struct Command {
        const char* name;
        std::vector<std::string> options;
        std::vector<std::string> flags;
        int (*run)(const Arguments&);
    };
    const Command commands[] = {
        {"keygen", {"--secret", "--public"}, {}, command_keygen},
        {"public", {"--secret", "--output"}, {}, command_public},
        {"sign", {"--secret", "--output"}, {"--unchecked"}, command_sign},
        {"verify", {"--public"}, {}, command_verify},
        {"public-header", {"--public", "--output"}, {}, command_public_header},
    };
    for (const Command& entry : commands) {
        if (command != entry.name) continue;
        if (!umka::tools::parse_arguments(count, values, entry.options, entry.flags, arguments,
                                          problem)) {
            return usage(problem);
        }
        return entry.run(arguments);
    }
    return usage("unknown command " + command);
}
