// Ed25519 verification of a signed module: the nucleus verifier (nucleus/crypto) against
// libsodium's crypto_sign_verify_detached on the same 4 KiB and 64 KiB messages and key,
// in the same run; SHA-512 (the hash inside the verification) and SHA-256 alone against
// libsodium's on the same bytes.
//
// The libsodium cases are the baselines and carry no label; each nucleus case names its
// baseline with SetLabel("baseline=<JSON name>"), which bench/run_benchmarks.py divides by
// (the suite prints no ratios itself).
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "nucleus/crypto/ed25519.h"
#include "nucleus/crypto/sha256.h"
#include "nucleus/crypto/sha512.h"

namespace {

struct SignedMessage {
    std::vector<uint8_t> message;
    uint8_t public_key[crypto_sign_PUBLICKEYBYTES];
    uint8_t signature[crypto_sign_BYTES];
};

// One key and message per size, shared by both verifiers.
const SignedMessage& signed_message(size_t size) {
    static std::map<size_t, SignedMessage> cache;
    auto found = cache.find(size);
    if (found != cache.end()) return found->second;
    SignedMessage& entry = cache[size];
    uint8_t secret_key[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(entry.public_key, secret_key);
    entry.message.resize(size);
    randombytes_buf(entry.message.data(), size);
    crypto_sign_detached(entry.signature, nullptr, entry.message.data(), size, secret_key);
    return entry;
}

// The JSON name of `baseline`'s case for this state's message size, e.g.
// "libsodium_ed25519_verify/4096".
void set_baseline(benchmark::State& state, const char* baseline) {
    state.SetLabel("baseline=" + std::string(baseline) + "/" + std::to_string(state.range(0)));
}

void nucleus_ed25519_verify(benchmark::State& state) {
    const SignedMessage& input = signed_message(size_t(state.range(0)));
    set_baseline(state, "libsodium_ed25519_verify");
    for (auto _ : state) {
        umka::Status status = umka::crypto::ed25519_verify(input.public_key, input.message.data(),
                                                           input.message.size(), input.signature);
        if (status.is_error()) {
            state.SkipWithError("nucleus verifier rejected a libsodium signature");
            break;
        }
        benchmark::DoNotOptimize(status);
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(nucleus_ed25519_verify)->Arg(4096)->Arg(65536)->Unit(benchmark::kMicrosecond);

void libsodium_ed25519_verify(benchmark::State& state) {
    const SignedMessage& input = signed_message(size_t(state.range(0)));
    for (auto _ : state) {
        int result = crypto_sign_verify_detached(input.signature, input.message.data(),
                                                 input.message.size(), input.public_key);
        if (result != 0) {
            state.SkipWithError("libsodium rejected its own signature");
            break;
        }
        benchmark::DoNotOptimize(result);
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(libsodium_ed25519_verify)->Arg(4096)->Arg(65536)->Unit(benchmark::kMicrosecond);

void nucleus_sha512(benchmark::State& state) {
    const SignedMessage& input = signed_message(size_t(state.range(0)));
    set_baseline(state, "libsodium_sha512");
    uint8_t digest[umka::crypto::kSha512DigestSize];
    for (auto _ : state) {
        umka::crypto::Sha512::hash(input.message.data(), input.message.size(), digest);
        benchmark::DoNotOptimize(digest);
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(nucleus_sha512)->Arg(4096)->Arg(65536)->Unit(benchmark::kMicrosecond);

void libsodium_sha512(benchmark::State& state) {
    const SignedMessage& input = signed_message(size_t(state.range(0)));
    uint8_t digest[crypto_hash_sha512_BYTES];
    for (auto _ : state) {
        crypto_hash_sha512(digest, input.message.data(), input.message.size());
        benchmark::DoNotOptimize(digest);
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(libsodium_sha512)->Arg(4096)->Arg(65536)->Unit(benchmark::kMicrosecond);

void nucleus_sha256(benchmark::State& state) {
    const SignedMessage& input = signed_message(size_t(state.range(0)));
    set_baseline(state, "libsodium_sha256");
    uint8_t digest[umka::crypto::kSha256DigestSize];
    for (auto _ : state) {
        umka::crypto::Sha256::hash(input.message.data(), input.message.size(), digest);
        benchmark::DoNotOptimize(digest);
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(nucleus_sha256)->Arg(4096)->Arg(65536)->Unit(benchmark::kMicrosecond);

void libsodium_sha256(benchmark::State& state) {
    const SignedMessage& input = signed_message(size_t(state.range(0)));
    uint8_t digest[crypto_hash_sha256_BYTES];
    for (auto _ : state) {
        crypto_hash_sha256(digest, input.message.data(), input.message.size());
        benchmark::DoNotOptimize(digest);
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(libsodium_sha256)->Arg(4096)->Arg(65536)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
    if (sodium_init() < 0) {
        std::fprintf(stderr, "crypto_bench: libsodium failed to initialise\n");
        return 1;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
