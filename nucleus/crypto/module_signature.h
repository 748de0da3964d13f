// The signed module file format (docs/module-signing.md):
//
//   [ ELF image: signed_length bytes ][ Ed25519 signature: 64 bytes ][ trailer: 16 bytes ]
//   trailer = { char magic[8] = "UMKASIG1"; uint64_t signed_length (little endian) }
//
// The signature covers exactly the ELF image bytes. Pure parsing and verification, shared
// by the nucleus loader, the host tools (umka-sign, umka-modcheck) and the host tests.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/crypto/ed25519.h"
#include "nucleus/lib/status.h"

namespace umka::crypto {

inline constexpr char kModuleSignatureMagic[8] = {'U', 'M', 'K', 'A', 'S', 'I', 'G', '1'};
inline constexpr size_t kModuleSignatureTrailerSize = 16;
inline constexpr size_t kModuleSignatureOverhead =
    kEd25519SignatureSize + kModuleSignatureTrailerSize;

// A signed module split into its parts; every pointer points into the caller's file bytes.
struct SignedModuleView {
    const uint8_t* image = nullptr;  // the ELF bytes that were signed
    size_t image_size = 0;
    const uint8_t* signature = nullptr;  // kEd25519SignatureSize bytes
};

// True when the last 16 bytes of the file carry the UMKASIG1 magic (whether or not the
// rest of the trailer is consistent): how tools tell "signed" from "plain ELF".
bool has_module_signature_trailer(const uint8_t* file, size_t size);

// Splits a signed module file. ExecFormat when the file is unsigned or its trailer is
// inconsistent with its size; InvalidArgument for a null file with a nonzero size. On
// error `*reason` (when reason is not null) names the problem; on success it is set to
// null.
Status split_signed_module(const uint8_t* file, size_t size, SignedModuleView& out,
                           const char** reason);

// Verifies the signature over the image with `public_key`. ExecFormat when the signature
// does not verify (tampered image, tampered or malleated signature, another key);
// InvalidArgument when the public key itself is malformed (a build problem, not a module
// problem). `*reason` as for split_signed_module.
Status verify_module_signature(const SignedModuleView& module,
                               const uint8_t public_key[kEd25519PublicKeySize],
                               const char** reason);

}  // namespace umka::crypto
