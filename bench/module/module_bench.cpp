// Module-system costs, each beside a baseline measured in the same run:
//   capability lookup (and a validated token's still_valid) vs indexing a plain array of
//   {object, rights} — the price of generations and the seqlock re-check;
//   ELF validation vs libelf reading the same file (headers, sections, dynamic tags, symbols,
//   relocations);
//   ELF load (copy, relocate) and load with mmap/mprotect, per KiB of module: no competitor
//   loads this ELF contract, so these cases say so (label "baseline=none").
// Each case names its baseline with state.SetLabel("baseline=..."), which
// bench/run_benchmarks.py reads to print the same-run ratio.
#include <benchmark/benchmark.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <chrono>
#include <fstream>
#include <iterator>
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
constexpr char kArrayBaseline[] = "baseline=BM_BaselineArrayIndex";
// No other loader implements this ELF contract; the runner prints these without a ratio.
constexpr char kNoCompetitor[] = "baseline=none";

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
    state.SetLabel(kArrayBaseline);
    FilledTable filled;
    size_t next = 0;
    for (auto _ : state) {
        auto info = filled.table.lookup(filled.handles[next++ & (kCapabilities - 1)], Rights::Call);
        benchmark::DoNotOptimize(info);
    }
}
BENCHMARK(BM_CapabilityLookup);

void BM_CapabilityCheck(benchmark::State& state) {
    state.SetLabel(kArrayBaseline);
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
    state.SetLabel(kArrayBaseline);
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
    state.SetLabel("baseline=BM_LibelfParse");
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

// The competitor of BM_ElfValidate: libelf reading the same file and touching what the
// validator checks (file and program headers, every section header, the dynamic tags, the
// symbols and the relocations), without the contract's rules.
uint64_t libelf_walk(std::vector<uint8_t>& file) {
    Elf* elf = elf_memory(reinterpret_cast<char*>(file.data()), file.size());
    if (elf == nullptr) return 0;
    uint64_t seen = 0;
    GElf_Ehdr header;
    size_t segments = 0;
    if (gelf_getehdr(elf, &header) != nullptr && elf_getphdrnum(elf, &segments) == 0) {
        seen += header.e_entry;
        for (size_t index = 0; index < segments; ++index) {
            GElf_Phdr segment;
            if (gelf_getphdr(elf, int(index), &segment) != nullptr) seen += segment.p_memsz;
        }
    }
    for (Elf_Scn* section = elf_nextscn(elf, nullptr); section != nullptr;
         section = elf_nextscn(elf, section)) {
        GElf_Shdr section_header;
        if (gelf_getshdr(section, &section_header) == nullptr) continue;
        Elf_Data* data = elf_getdata(section, nullptr);
        if (data == nullptr || section_header.sh_entsize == 0) continue;
        size_t count = section_header.sh_size / section_header.sh_entsize;
        for (size_t index = 0; index < count; ++index) {
            if (section_header.sh_type == SHT_DYNAMIC) {
                GElf_Dyn entry;
                if (gelf_getdyn(data, int(index), &entry) != nullptr) seen += entry.d_tag;
            } else if (section_header.sh_type == SHT_SYMTAB ||
                       section_header.sh_type == SHT_DYNSYM) {
                GElf_Sym symbol;
                if (gelf_getsym(data, int(index), &symbol) != nullptr) seen += symbol.st_value;
            } else if (section_header.sh_type == SHT_RELA) {
                GElf_Rela relocation;
                if (gelf_getrela(data, int(index), &relocation) != nullptr)
                    seen += relocation.r_info;
            }
        }
    }
    elf_end(elf);
    return seen;
}

void BM_LibelfParse(benchmark::State& state) {
    std::vector<uint8_t> file = module_file();
    if (elf_version(EV_CURRENT) == EV_NONE || libelf_walk(file) == 0) {
        state.SkipWithError("libelf cannot read the module");
        return;
    }
    auto start = std::chrono::steady_clock::now();
    for (auto _ : state) benchmark::DoNotOptimize(libelf_walk(file));
    report_per_kib(state, file.size(), nanoseconds_since(start));
}
BENCHMARK(BM_LibelfParse);

void BM_ElfLoadRelocate(benchmark::State& state) {
    state.SetLabel(kNoCompetitor);
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
    state.SetLabel(kNoCompetitor);
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

}  // namespace

BENCHMARK_MAIN();
