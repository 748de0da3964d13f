// The kernel heap against glibc, in one run:
//   BM_HeapPair/<size>   allocate + free of one object through memory.Heap (the real
//                        kernel_heap.elf, called through its vtable as the nucleus will)
//   BM_MallocPair/<size> malloc + free of the same size (glibc's per-thread tcache)
//   BM_HeapBatch, BM_MallocBatch: 512 allocations, then their 512 frees, per pair, so the
//                        heap's magazines run empty and full and go to the depot
//   .../threads:2        the same on two threads (two CPU indices for the heap)
// Each heap case names its glibc case with the same size and threads as its baseline
// (state.SetLabel("baseline=..."), the convention bench/run_benchmarks.py reads). The heap
// runs on host memory (HostModuleMemory, mmap per region); the pairs do not reach it once
// the slabs exist, so what is measured is the module's own code.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdio>
#include <string>
#include <vector>

#include "host_module_memory.h"
#include "module_harness.h"
#include "umka/kabi/memory.hpp"

namespace {

using umka::heap_test::HostModuleMemory;
namespace memory = umka::kabi::memory;

// The heap module, loaded once for all cases.
struct LoadedHeap {
    LoadedHeap() {
        if (harness.provide("kernel_services", "ModuleMemory", host_memory.vtable(), &host_memory)
                .is_error()) {
            std::fprintf(stderr, "heap_bench: %s\n", harness.last_reason().c_str());
            std::exit(1);
        }
        umka::harness::HostModule* module = harness.load(umka::harness::module_under_test());
        if (module == nullptr ||
            harness.bind_provided(*module, "memory", "Heap", &heap).is_error()) {
            std::fprintf(stderr, "heap_bench: cannot load %s: %s\n",
                         umka::harness::module_under_test(), harness.last_reason().c_str());
            std::exit(1);
        }
    }
    HostModuleMemory host_memory;
    umka::harness::ModuleHarness harness;
    memory::HeapRef heap;
};

memory::HeapRef& heap() {
    static LoadedHeap loaded;
    return loaded.heap;
}

constexpr int kBatch = 512;

// The glibc case measured with the same size and the same number of threads.
void name_baseline(benchmark::State& state, const char* baseline) {
    if (state.thread_index() != 0) return;
    std::string label = "baseline=" + std::string(baseline) + "/" + std::to_string(state.range(0));
    if (state.threads() > 1) label += "/threads:" + std::to_string(state.threads());
    state.SetLabel(label);
}

void BM_HeapPair(benchmark::State& state) {
    name_baseline(state, "BM_MallocPair");
    memory::HeapRef& ref = heap();
    uint64_t size = uint64_t(state.range(0));
    uint32_t cpu = uint32_t(state.thread_index());
    for (auto _ : state) {
        uint64_t address = 0;
        if (ref.allocate(cpu, size, 0, &address).is_error()) {
            state.SkipWithError("allocate failed");
            break;
        }
        benchmark::DoNotOptimize(address);
        (void)ref.free(cpu, address);
    }
}

void BM_MallocPair(benchmark::State& state) {
    size_t size = size_t(state.range(0));
    for (auto _ : state) {
        void* pointer = malloc(size);
        benchmark::DoNotOptimize(pointer);
        free(pointer);
    }
}

void BM_HeapBatch(benchmark::State& state) {
    name_baseline(state, "BM_MallocBatch");
    memory::HeapRef& ref = heap();
    uint64_t size = uint64_t(state.range(0));
    uint32_t cpu = uint32_t(state.thread_index());
    std::vector<uint64_t> addresses(kBatch);
    for (auto _ : state) {
        for (uint64_t& address : addresses) {
            if (ref.allocate(cpu, size, 0, &address).is_error()) {
                state.SkipWithError("allocate failed");
                return;
            }
        }
        benchmark::DoNotOptimize(addresses.data());
        for (uint64_t address : addresses) (void)ref.free(cpu, address);
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * kBatch);
}

void BM_MallocBatch(benchmark::State& state) {
    size_t size = size_t(state.range(0));
    std::vector<void*> pointers(kBatch);
    for (auto _ : state) {
        for (void*& pointer : pointers) pointer = malloc(size);
        benchmark::DoNotOptimize(pointers.data());
        for (void* pointer : pointers) free(pointer);
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * kBatch);
}

void sizes(benchmark::internal::Benchmark* benchmark) {
    for (int64_t size : {16, 64, 256, 1024, 2048}) benchmark->Arg(size);
}

BENCHMARK(BM_HeapPair)->Apply(sizes);
BENCHMARK(BM_MallocPair)->Apply(sizes);
BENCHMARK(BM_HeapPair)->Arg(64)->Threads(2);
BENCHMARK(BM_MallocPair)->Arg(64)->Threads(2);
BENCHMARK(BM_HeapBatch)->Arg(64)->Arg(1024);
BENCHMARK(BM_MallocBatch)->Arg(64)->Arg(1024);
BENCHMARK(BM_HeapBatch)->Arg(64)->Threads(2);
BENCHMARK(BM_MallocBatch)->Arg(64)->Threads(2);

}  // namespace

BENCHMARK_MAIN();
