#include "nucleus/crypto/module_signature.h"

namespace umka::crypto {
namespace {

Status fail(Errno error, const char** reason, const char* text) {
    if (reason != nullptr) *reason = text;
    return error;
}

uint64_t load_little_endian64(const uint8_t* bytes) {
    uint64_t value = 0;
    for (int index = 7; index >= 0; --index) value = (value << 8) | bytes[index];
    return value;
}

}  // namespace

bool has_module_signature_trailer(const uint8_t* file, size_t size) {
    if (file == nullptr || size < kModuleSignatureTrailerSize) return false;
    const uint8_t* magic = file + size - kModuleSignatureTrailerSize;
    for (size_t index = 0; index < sizeof(kModuleSignatureMagic); ++index) {
        if (magic[index] != uint8_t(kModuleSignatureMagic[index])) return false;
    }
    return true;
}

Status split_signed_module(const uint8_t* file, size_t size, SignedModuleView& out,
                           const char** reason) {
    out = SignedModuleView{};
    if (file == nullptr && size != 0) {
        return fail(Errno::InvalidArgument, reason, "module bytes are missing (null pointer)");
    }
    if (size < kModuleSignatureTrailerSize) {
        return fail(Errno::ExecFormat, reason,
                    "module is unsigned (too short to hold a UMKASIG1 trailer)");
    }
    if (!has_module_signature_trailer(file, size)) {
        return fail(Errno::ExecFormat, reason, "module is unsigned (no UMKASIG1 trailer)");
    }
    if (size < kModuleSignatureOverhead) {
        return fail(Errno::ExecFormat, reason,
                    "signature trailer present but the file is too short to hold the "
                    "64-byte signature");
    }
    uint64_t signed_length = load_little_endian64(file + size - 8);
    // Compare against what is available rather than adding to signed_length, which could
    // wrap around for a hostile trailer.
    size_t available = size - kModuleSignatureOverhead;
    if (signed_length > available) {
        return fail(Errno::ExecFormat, reason,
                    "signature trailer claims more bytes than the file has");
    }
    if (signed_length < available) {
        return fail(Errno::ExecFormat, reason,
                    "signature trailer claims fewer bytes than precede the signature "
                    "(unsigned bytes between the image and the signature)");
    }
    if (signed_length == 0) {
        return fail(Errno::ExecFormat, reason, "signature trailer covers an empty image");
    }
    out.image = file;
    out.image_size = size_t(signed_length);
    out.signature = file + signed_length;
    if (reason != nullptr) *reason = nullptr;
    return Status::ok();
}

Status verify_module_signature(const SignedModuleView& module,
                               const uint8_t public_key[kEd25519PublicKeySize],
                               const char** reason) {
    if (module.image == nullptr || module.signature == nullptr || module.image_size == 0) {
        return fail(Errno::InvalidArgument, reason,
                    "module view is empty (split_signed_module did not succeed)");
    }
    switch (ed25519_check(public_key, module.image, module.image_size, module.signature)) {
    case Ed25519Verdict::Valid:
        if (reason != nullptr) *reason = nullptr;
        return Status::ok();
    case Ed25519Verdict::PublicKeyNonCanonical:
        return fail(Errno::InvalidArgument, reason,
                    "module signing public key is malformed (non-canonical point encoding)");
    case Ed25519Verdict::PublicKeyNotOnCurve:
        return fail(Errno::InvalidArgument, reason,
                    "module signing public key is malformed (not a curve point)");
    case Ed25519Verdict::PublicKeySmallOrder:
        return fail(Errno::InvalidArgument, reason,
                    "module signing public key is malformed (point of small order)");
    case Ed25519Verdict::ScalarNonCanonical:
        return fail(Errno::ExecFormat, reason,
                    "module signature is malformed (scalar S not below the group order)");
    case Ed25519Verdict::Mismatch:
        return fail(Errno::ExecFormat, reason,
                    "module signature does not match its contents (tampered, or signed with "
                    "another key)");
    }
    return fail(Errno::ExecFormat, reason, "module signature check gave an unknown verdict");
}

}  // namespace umka::crypto
