// Frame allocator cost per operation, reported beside a baseline measured in the same run:
// a plain LIFO free list of frame numbers (what an O(1) allocator with no coalescing and
// no alignment guarantees costs). The ratio is what buddy bookkeeping adds; each buddy case
// names it with state.SetLabel("baseline=..."), which bench/run_benchmarks.py reads.
#include <benchmark/benchmark.h>

#include <vector>

#include "nucleus/mm/frame_allocator.h"

namespace {

constexpr uint64_t kFrames = 1u << 16;  // 256 MiB
constexpr uint64_t kBase = 1u << 20;
constexpr char kBaseline[] = "baseline=BM_BaselineFreeListPushPop";

void BM_BaselineFreeListPushPop(benchmark::State& state) {
    std::vector<uint64_t> free_list;
    free_list.reserve(kFrames);
    for (uint64_t frame = 0; frame < kFrames; ++frame) free_list.push_back(kBase + frame * 4096);
    for (auto _ : state) {
        uint64_t frame = free_list.back();
        free_list.pop_back();
        benchmark::DoNotOptimize(frame);
        free_list.push_back(frame);
    }
}
BENCHMARK(BM_BaselineFreeListPushPop);

void BM_BuddyAllocateFreeOrder0(benchmark::State& state) {
    state.SetLabel(kBaseline);
    std::vector<umka::FrameRecord> records(kFrames);
    umka::FrameAllocator allocator;
    (void)allocator.initialize(records.data(), kBase / 4096, kFrames);
    (void)allocator.add_free_range(kBase, kFrames * 4096);
    for (auto _ : state) {
        umka::Result<uint64_t> frame = allocator.allocate(0);
        benchmark::DoNotOptimize(frame);
        (void)allocator.free(frame.value());
    }
}
BENCHMARK(BM_BuddyAllocateFreeOrder0);

void BM_BuddyAllocateFreeFragmented(benchmark::State& state) {
    state.SetLabel(kBaseline);
    // Half the frames allocated in a checkerboard: frees cannot merge far.
    std::vector<umka::FrameRecord> records(kFrames);
    umka::FrameAllocator allocator;
    (void)allocator.initialize(records.data(), kBase / 4096, kFrames);
    (void)allocator.add_free_range(kBase, kFrames * 4096);
    std::vector<uint64_t> held;
    for (uint64_t index = 0; index < kFrames; ++index)
        held.push_back(allocator.allocate(0).value());
    for (uint64_t index = 0; index < kFrames; index += 2) (void)allocator.free(held[index]);
    for (auto _ : state) {
        umka::Result<uint64_t> frame = allocator.allocate(0);
        benchmark::DoNotOptimize(frame);
        (void)allocator.free(frame.value());
    }
}
BENCHMARK(BM_BuddyAllocateFreeFragmented);

void BM_BuddyAllocateFreeOrder4(benchmark::State& state) {
    state.SetLabel(kBaseline);
    std::vector<umka::FrameRecord> records(kFrames);
    umka::FrameAllocator allocator;
    (void)allocator.initialize(records.data(), kBase / 4096, kFrames);
    (void)allocator.add_free_range(kBase, kFrames * 4096);
    for (auto _ : state) {
        umka::Result<uint64_t> block = allocator.allocate(4);
        benchmark::DoNotOptimize(block);
        (void)allocator.free(block.value());
    }
}
BENCHMARK(BM_BuddyAllocateFreeOrder4);

}  // namespace

BENCHMARK_MAIN();
