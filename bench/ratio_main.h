// main() for a Google Benchmark suite that prints same-run ratios after its results. With
// --benchmark_format=json (./umka bench) the default reporter writes JSON and the ratios
// are left to the caller; otherwise `Reporter` (a ConsoleReporter that prints its ratios)
// reports. The flag is read before Initialize, which removes the flags it knows from argv.
#pragma once

#include <benchmark/benchmark.h>

#include <string>

namespace umka::bench {

template <typename Reporter>
int run_with_ratios(int argc, char** argv) {
    bool console = true;
    for (int index = 1; index < argc; ++index) {
        std::string argument = argv[index];
        if (argument.rfind("--benchmark_format=", 0) == 0 &&
            argument != "--benchmark_format=console") {
            console = false;
        }
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    if (console) {
        Reporter reporter;
        benchmark::RunSpecifiedBenchmarks(&reporter);
    } else {
        benchmark::RunSpecifiedBenchmarks();
    }
    benchmark::Shutdown();
    return 0;
}

}  // namespace umka::bench
