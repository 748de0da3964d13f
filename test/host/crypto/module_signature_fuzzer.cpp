// libFuzzer target over the signed-module parser and the Ed25519 verifier: no input may
// crash them, every rejection must carry a reason, and an accepted split must describe
// bytes inside the input.
#include <stddef.h>
#include <stdint.h>

#include "nucleus/crypto/ed25519.h"
#include "nucleus/crypto/module_signature.h"

namespace {

// RFC 8032 TEST 2's public key: the seed corpus holds a module signed with its secret key,
// so the fuzzer starts from an input that takes the "valid signature" path.
constexpr uint8_t kFixedPublicKey[32] = {
    0x3d, 0x40, 0x17, 0xc3, 0xe8, 0x43, 0x89, 0x5a, 0x92, 0xb7, 0x0a, 0xa7, 0x4d, 0x1b, 0x7e, 0xbc,
    0x9c, 0x98, 0x2c, 0xcf, 0x2e, 0xc4, 0x96, 0x8c, 0xc0, 0xcd, 0x55, 0xf1, 0x2a, 0xf4, 0x66, 0x0c,
};

void require(bool condition) {
    if (!condition) __builtin_trap();
}

bool has_text(const char* reason) {
    return reason != nullptr && reason[0] != '\0';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace umka;
    using namespace umka::crypto;

    // The whole input as a signed module, checked with the fixed key.
    SignedModuleView view;
    const char* reason = nullptr;
    Status split = split_signed_module(data, size, view, &reason);
    if (split.is_ok()) {
        require(reason == nullptr);
        require(view.image == data && view.image_size > 0);
        require(view.image_size + kModuleSignatureOverhead == size);
        require(view.signature == data + view.image_size);
        Status verified = verify_module_signature(view, kFixedPublicKey, &reason);
        require(verified.is_ok() ? reason == nullptr
                                 : verified.error() == Errno::ExecFormat && has_text(reason));
    } else {
        require(split.error() == Errno::ExecFormat && has_text(reason));
        require(view.image == nullptr && view.signature == nullptr && view.image_size == 0);
    }

    // The input as key || signature || message, for the verifier's key and scalar checks.
    if (size >= kEd25519PublicKeySize + kEd25519SignatureSize) {
        const uint8_t* key = data;
        const uint8_t* signature = data + kEd25519PublicKeySize;
        const uint8_t* message = signature + kEd25519SignatureSize;
        size_t length = size - kEd25519PublicKeySize - kEd25519SignatureSize;
        Ed25519Verdict verdict = ed25519_check(key, message, length, signature);
        require(has_text(ed25519_verdict_text(verdict)));
        Status status = ed25519_verify(key, message, length, signature);
        require(status.is_ok() == (verdict == Ed25519Verdict::Valid));
    }
    return 0;
}
