// A call through a generated KABI vtable (with its vtable_size check) against a plain C++
// virtual call and a direct call, in the same run; prints the ratios at the end.
// Goal from issue 3: generated vtable call <= 1.05x the virtual call.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "call_targets.h"

namespace {

using CounterRef = umka::kabi::bench_call::CounterRef;

void direct_call(benchmark::State& state) {
    bench::Counter counter;
    for (auto _ : state) {
        benchmark::DoNotOptimize(bench::direct_add(&counter, 1));
    }
    benchmark::DoNotOptimize(counter.total);
}
BENCHMARK(direct_call);

void virtual_call(benchmark::State& state) {
    bench::Counter counter;
    std::unique_ptr<bench::VirtualCounter> object(bench::make_virtual_counter(&counter));
    bench::VirtualCounter* pointer = object.get();
    for (auto _ : state) {
        benchmark::DoNotOptimize(pointer->add(1));
    }
    benchmark::DoNotOptimize(counter.total);
}
BENCHMARK(virtual_call);

void kabi_vtable_call(benchmark::State& state) {
    bench::Counter counter;
    CounterRef ref;
    if (CounterRef::bind(bench::counter_vtable(), &counter, &ref).is_error()) {
        state.SkipWithError("bind failed");
        return;
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(ref.add(1));  // checks vtable_size, then calls the slot
    }
    benchmark::DoNotOptimize(counter.total);
}
BENCHMARK(kabi_vtable_call);

// Collects each benchmark's time per iteration while printing the usual output: the
// console table, or JSON for --benchmark_format=json (what ./umka bench parses).
template <typename Base>
class RatioReporter : public Base {
public:
    using Run = typename Base::Run;
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) {
            if (run.run_type == Run::RT_Iteration && !run.error_occurred) {
                nanoseconds[run.benchmark_name()] = run.GetAdjustedRealTime();
            }
        }
        Base::ReportRuns(runs);
    }
    std::map<std::string, double> nanoseconds;
};

}  // namespace

int main(int argc, char** argv) {
    bool json = false;
    for (int index = 1; index < argc; ++index)
        json = json || std::string(argv[index]) == "--benchmark_format=json";
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    RatioReporter<benchmark::ConsoleReporter> console;
    RatioReporter<benchmark::JSONReporter> json_reporter;
    std::map<std::string, double>* nanoseconds = nullptr;
    if (json) {
        benchmark::RunSpecifiedBenchmarks(&json_reporter);
        nanoseconds = &json_reporter.nanoseconds;
    } else {
        benchmark::RunSpecifiedBenchmarks(&console);
        nanoseconds = &console.nanoseconds;
    }
    benchmark::Shutdown();
    auto time = [&](const char* name) {
        auto found = nanoseconds->find(name);
        return found == nanoseconds->end() ? 0.0 : found->second;
    };
    double direct = time("direct_call"), virtual_time = time("virtual_call"),
           kabi = time("kabi_vtable_call");
    if (direct > 0 && virtual_time > 0 && kabi > 0) {
        // stderr, so --benchmark_format=json output on stdout stays valid JSON.
        std::fprintf(stderr, "\nratios (same run):\n");
        std::fprintf(stderr, "  kabi_vtable_call / virtual_call = %.3f  (goal <= 1.05)\n",
                     kabi / virtual_time);
        std::fprintf(stderr, "  kabi_vtable_call / direct_call  = %.3f\n", kabi / direct);
        std::fprintf(stderr, "  virtual_call / direct_call      = %.3f\n", virtual_time / direct);
    }
    return 0;
}
