// Module-system costs, each beside a baseline measured in the same run:
//   capability lookup (and a validated token's still_valid) vs indexing a plain array of
//   {object, rights} — the price of generations and the seqlock re-check;
//   ELF validate, load (copy, relocate) and load with mmap/mprotect, per KiB of module.
// Ratios go to stderr at the end (and ./umka bench prints the JSON cases).
#include <benchmark/benchmark.h>

#include "bench/ratio_main.h"
#include <stdlib.h>
#include <sys/mman.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "nucleus/module/capability_table.h"
#include "nucleus/module/elf_module.h"

namespace {

using umka::Errno;
using umka::Result;
using umka::Status;
using umka::modules::CapabilityEntry;
using umka::modules::CapabilityHandle;
using umka::modules::CapabilityKind;
using umka::modules::CapabilityTable;
using umka::modules::Rights;

constexpr size_t kCapabilities = 1024;  // a power of two: the loop masks its index

struct PlainEntry {
    void* object;
    uint32_t rights;
};

int objects[kCapabilities];

void BM_BaselineArrayIndex(benchmark::State& state) {
    std::vector<PlainEntry> table(kCapabilities);
    for (size_t index = 0; index < kCapabilities; ++index) {
        table[index] = PlainEntry{&objects[index], uint32_t(Rights::Call)};
    }
    std::vector<uint32_t> indices(kCapabilities);
    for (size_t index = 0; index < kCapabilities; ++index)
        indices[index] = uint32_t((index * 389) % kCapabilities);
    size_t next = 0;
    for (auto _ : state) {
        const PlainEntry& entry = table[indices[next++ & (kCapabilities - 1)]];
        void* object = (entry.rights & uint32_t(Rights::Call)) ? entry.object : nullptr;
        benchmark::DoNotOptimize(object);
    }
}
BENCHMARK(BM_BaselineArrayIndex);

struct FilledTable {
    FilledTable() : entries(kCapabilities), table(entries.data(), kCapabilities) {
        for (size_t index = 0; index < kCapabilities; ++index) {
            handles.push_back(
                table.insert(&objects[index], CapabilityKind::ServiceBinding, Rights::Call, 0)
                    .value());
        }
        // Same access pattern as the baseline.
        std::vector<CapabilityHandle> shuffled(kCapabilities);
        for (size_t index = 0; index < kCapabilities; ++index) {
            shuffled[index] = handles[(index * 389) % kCapabilities];
        }
        handles = shuffled;
    }
    std::vector<CapabilityEntry> entries;
    CapabilityTable table;
    std::vector<CapabilityHandle> handles;
};

void BM_CapabilityLookup(benchmark::State& state) {
    FilledTable filled;
    size_t next = 0;
    for (auto _ : state) {
        auto info = filled.table.lookup(filled.handles[next++ & (kCapabilities - 1)], Rights::Call);
        benchmark::DoNotOptimize(info);
    }
}
BENCHMARK(BM_CapabilityLookup);

void BM_CapabilityCheck(benchmark::State& state) {
    FilledTable filled;
    size_t next = 0;
    umka::modules::CapabilityInfo info;
    for (auto _ : state) {
        auto result =
            filled.table.check(filled.handles[next++ & (kCapabilities - 1)], Rights::Call, &info);
        benchmark::DoNotOptimize(result);
        benchmark::DoNotOptimize(info.object);
    }
}
BENCHMARK(BM_CapabilityCheck);

void BM_CapabilityTokenStillValid(benchmark::State& state) {
    FilledTable filled;
    std::vector<umka::modules::CapabilityToken> tokens;
    for (CapabilityHandle handle : filled.handles)
        tokens.push_back(filled.table.validate(handle, Rights::Call).value());
    size_t next = 0;
    for (auto _ : state) {
        const auto& token = tokens[next++ & (kCapabilities - 1)];
        void* object = token.still_valid() ? token.object() : nullptr;
        benchmark::DoNotOptimize(object);
    }
}
BENCHMARK(BM_CapabilityTokenStillValid);

// --- ELF loading ---------------------------------------------------------------------------

std::vector<uint8_t> module_file() {
    std::ifstream stream(UMKA_BENCH_MODULE, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(stream),
                                std::istreambuf_iterator<char>());
}

Result<void*> heap_reserve(void*, size_t bytes) {
    void* memory = aligned_alloc(umka::modules::kModulePageSize, bytes);
    if (memory == nullptr) return Errno::OutOfMemory;
    return memory;
}
Status heap_protect(void*, void*, size_t, umka::modules::SegmentAccess) {
    return Status::ok();
}
void heap_release(void*, void* start, size_t) {
    free(start);
}

Result<void*> mmap_reserve(void*, size_t bytes) {
    void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return Errno::OutOfMemory;
    return memory;
}
Status mmap_protect(void*, void* start, size_t bytes, umka::modules::SegmentAccess access) {
    int protection = PROT_READ;
    if (access == umka::modules::SegmentAccess::ReadWrite) protection |= PROT_WRITE;
    if (access == umka::modules::SegmentAccess::ReadExecute) protection |= PROT_EXEC;
    return mprotect(start, bytes, protection) == 0 ? Status::ok() : Status(Errno::InvalidArgument);
}
void mmap_release(void*, void* start, size_t bytes) {
    munmap(start, bytes);
}

// Google Benchmark reports time per iteration; per KiB of module is what the issue asks.
void report_per_kib(benchmark::State& state, size_t bytes, double elapsed_ns) {
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes));
    state.counters["module_KiB"] = double(bytes) / 1024.0;
    if (state.iterations() > 0) {
        state.counters["ns_per_KiB"] =
            elapsed_ns / double(state.iterations()) / (double(bytes) / 1024.0);
    }
}

double nanoseconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start)
        .count();
}

void BM_ElfValidate(benchmark::State& state) {
    std::vector<uint8_t> file = module_file();
    umka::modules::ModuleLayout layout;
    umka::modules::Diagnostic diagnostic;
    auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        Status status =
            umka::modules::validate_module(file.data(), file.size(), layout, diagnostic);
        if (status.is_error()) state.SkipWithError(diagnostic.text());
        benchmark::DoNotOptimize(layout);
    }
    report_per_kib(state, file.size(), nanoseconds_since(start));
}
BENCHMARK(BM_ElfValidate);

void BM_ElfLoadRelocate(benchmark::State& state) {
    std::vector<uint8_t> file = module_file();
    umka::modules::ModuleMemory memory{nullptr, &heap_reserve, &heap_protect, &heap_release};
    umka::modules::Diagnostic diagnostic;
    auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        auto loaded = umka::modules::load_module(file.data(), file.size(), memory, diagnostic);
        if (loaded.is_error()) {
            state.SkipWithError(diagnostic.text());
            break;
        }
        umka::modules::unload_module(loaded.value(), memory);
    }
    report_per_kib(state, file.size(), nanoseconds_since(start));
}
BENCHMARK(BM_ElfLoadRelocate);

void BM_ElfLoadWithMmapProtect(benchmark::State& state) {
    std::vector<uint8_t> file = module_file();
    umka::modules::ModuleMemory memory{nullptr, &mmap_reserve, &mmap_protect, &mmap_release};
    umka::modules::Diagnostic diagnostic;
    auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        auto loaded = umka::modules::load_module(file.data(), file.size(), memory, diagnostic);
        if (loaded.is_error()) {
            state.SkipWithError(diagnostic.text());
            break;
        }
        umka::modules::unload_module(loaded.value(), memory);
    }
    report_per_kib(state, file.size(), nanoseconds_since(start));
}
BENCHMARK(BM_ElfLoadWithMmapProtect);

// Prints each capability case as a ratio of the array-index baseline from this run.
class RatioReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) times_[run.benchmark_name()] = run.GetAdjustedRealTime();
        ConsoleReporter::ReportRuns(runs);
    }
    void Finalize() override {
        ConsoleReporter::Finalize();
        auto base = times_.find("BM_BaselineArrayIndex");
        if (base == times_.end() || base->second <= 0) return;
        for (const char* name :
             {"BM_CapabilityLookup", "BM_CapabilityCheck", "BM_CapabilityTokenStillValid"}) {
            auto found = times_.find(name);
            if (found != times_.end()) {
                std::fprintf(stderr, "%-30s %6.2fx of BM_BaselineArrayIndex\n", name,
                             found->second / base->second);
            }
        }
    }

private:
    std::map<std::string, double> times_;
};

}  // namespace

int main(int argc, char** argv) { return umka::bench::run_with_ratios<RatioReporter>(argc, argv); }
