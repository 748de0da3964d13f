// Ed25519 verification of a signed module: the nucleus verifier (nucleus/crypto) against
// libsodium's crypto_sign_verify_detached on the same 4 KiB and 64 KiB messages and key,
// in the same run; SHA-512 alone for the share of hashing. Prints nucleus/libsodium
// ratios at the end (stderr, so --benchmark_format=json output stays valid JSON).
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "nucleus/crypto/ed25519.h"
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

void nucleus_ed25519_verify(benchmark::State& state) {
    const SignedMessage& input = signed_message(size_t(state.range(0)));
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

// Collects each benchmark's time per iteration while printing the usual output (console
// table, or JSON for --benchmark_format=json, which ./umka bench parses).
template <typename Base>
class RatioReporter : public Base {
public:
    using Run = typename Base::Run;
    void ReportRuns(const std::vector<Run>& runs) override {
        // Per case: the median when --benchmark_repetitions gives one, else the last run.
        // Times are in the benchmark's unit: microseconds for every case here.
        for (const Run& run : runs) {
            if (run.error_occurred) continue;
            std::string name = run.run_name.str();
            if (run.run_type == Run::RT_Aggregate && run.aggregate_name == "median") {
                microseconds[name] = run.GetAdjustedRealTime();
                have_median.insert(name);
            } else if (run.run_type == Run::RT_Iteration && !have_median.count(name)) {
                microseconds[name] = run.GetAdjustedRealTime();
            }
        }
        Base::ReportRuns(runs);
    }
    std::map<std::string, double> microseconds;
    std::set<std::string> have_median;
};

}  // namespace

int main(int argc, char** argv) {
    if (sodium_init() < 0) {
        std::fprintf(stderr, "crypto_bench: libsodium failed to initialise\n");
        return 1;
    }
    bool json = false;
    for (int index = 1; index < argc; ++index) {
        json = json || std::string(argv[index]) == "--benchmark_format=json";
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    RatioReporter<benchmark::ConsoleReporter> console;
    RatioReporter<benchmark::JSONReporter> json_reporter;
    std::map<std::string, double>* microseconds = &console.microseconds;
    if (json) {
        benchmark::RunSpecifiedBenchmarks(&json_reporter);
        microseconds = &json_reporter.microseconds;
    } else {
        benchmark::RunSpecifiedBenchmarks(&console);
    }
    benchmark::Shutdown();

    auto time = [&](const std::string& name) {
        auto found = microseconds->find(name);
        return found == microseconds->end() ? 0.0 : found->second;
    };
    std::fprintf(stderr, "\nratios, nucleus / libsodium (same run, same messages and key):\n");
    for (const char* size : {"4096", "65536"}) {
        for (const char* operation : {"ed25519_verify", "sha512"}) {
            double nucleus = time(std::string("nucleus_") + operation + "/" + size);
            double libsodium = time(std::string("libsodium_") + operation + "/" + size);
            if (nucleus > 0 && libsodium > 0) {
                std::fprintf(stderr, "  %-15s %6s bytes: %.2f  (%.1f us vs %.1f us)\n", operation,
                             size, nucleus / libsodium, nucleus, libsodium);
            }
        }
    }
    return 0;
}
