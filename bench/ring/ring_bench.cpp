// Ring transport against boost::lockfree::spsc_queue, in one run, two threads pinned to
// two CPUs (when the affinity call is allowed):
//   throughput  one thread sends 128-byte entries (umka_kabi_ring_request), the other
//               takes them; both copy whole entries, one publish/release per message;
//               "batched": one publish (ring: stage + flush; boost: push of an array) and
//               one release per 32 messages;
//   round trip  one thread sends an entry and waits for the answer, the other answers;
//   call        the same round trip through RingCaller::call and run_provider (dispatch
//               included), i.e. what a synchronous ring call costs;
//   binding     asynchronous submits through RingCaller, run_provider answering in
//               batches, completions reaped (no boost counterpart; for scale).
// Our ends poll (RingSignals::spin_polls) before they would sleep, as boost's users spin;
// with both threads busy no doorbell is needed, so this measures the ring itself plus the
// doorbell check on every publish. Every case reports items/s; after the run the ratios
// to boost are printed (to stderr when the output format is JSON, so the JSON stays clean).
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "nucleus/ring/ring_caller.h"
#include "nucleus/ring/ring_provider.h"
#include "test/host/ring/thread_signals.h"

namespace {

using umka::ring::RingCaller;
using umka::ring::RingPair;
using umka::ring::RingParty;
using umka::ring::RingProvider;
using umka::ring::SpscConsumer;
using umka::ring::SpscProducer;
using umka::ring::WaitOutcome;
using umka::ring::testing::RingMemory;
using umka::ring::testing::ThreadSignals;
using Completion = umka_kabi_ring_completion;
using Request = umka_kabi_ring_request;

constexpr uint32_t kEntries = 1024;        // throughput rings (boost: the same capacity)
constexpr uint32_t kRoundTripEntries = 8;  // round trips keep one entry in flight
constexpr uint64_t kMessagesPerIteration = 1u << 16;
constexpr uint32_t kSpinPolls = 1u << 22;  // ~seconds of polling: the ends never sleep

void pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);  // best effort
}

Request make_entry() {
    Request entry{};
    entry.opcode = 1;
    entry.payload_size = sizeof(uint64_t);
    std::memset(entry.payload, 0x5a, sizeof(entry.payload));
    return entry;
}

struct Binding {
    explicit Binding(uint32_t entries)
        : memory(RingPair::bytes_for(entries)),
          pair(RingPair::create(memory.data(), memory.size(), entries).value()) {}
    RingMemory memory;
    RingPair pair;
};

// --- Throughput ----------------------------------------------------------------------

void BM_RingThroughput(benchmark::State& state) {
    Binding binding(kEntries);
    ThreadSignals signals(kSpinPolls);
    const uint64_t total = state.max_iterations * kMessagesPerIteration;
    pin_to_cpu(0);
    std::thread producer_thread([&] {
        pin_to_cpu(1);
        SpscProducer<Request> producer(binding.pair.requests(), signals.signals(),
                                       RingParty::Caller, RingParty::Provider);
        Request entry = make_entry();
        for (uint64_t i = 0; i < total; ++i) {
            Request* slot;
            while ((slot = producer.try_reserve()) == nullptr) (void)producer.wait_for_space();
            entry.request_id = i;
            *slot = entry;
            producer.publish();
        }
    });
    SpscConsumer<Request> consumer(binding.pair.requests(), signals.signals(), RingParty::Provider,
                                   RingParty::Caller);
    uint64_t expected = 0, wrong = 0;
    for (auto _ : state) {
        for (uint64_t i = 0; i < kMessagesPerIteration; ++i) {
            const Request* entry;
            while ((entry = consumer.peek()) == nullptr) (void)consumer.wait_for_entries();
            Request copy = *entry;
            consumer.consume();
            consumer.release();
            wrong += copy.request_id != expected++;
            benchmark::DoNotOptimize(copy);
        }
    }
    producer_thread.join();
    if (wrong != 0) state.SkipWithError("the ring lost or reordered messages");
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kMessagesPerIteration));
    state.counters["doorbells"] = static_cast<double>(binding.pair.counters().doorbells);
}

using BoostQueue = boost::lockfree::spsc_queue<Request, boost::lockfree::capacity<kEntries>>;

void BM_BoostThroughput(benchmark::State& state) {
    auto queue = std::make_unique<BoostQueue>();
    const uint64_t total = state.max_iterations * kMessagesPerIteration;
    pin_to_cpu(0);
    std::thread producer_thread([&] {
        pin_to_cpu(1);
        Request entry = make_entry();
        for (uint64_t i = 0; i < total; ++i) {
            entry.request_id = i;
            while (!queue->push(entry)) umka::ring::relax_cpu();
        }
    });
    uint64_t expected = 0, wrong = 0;
    for (auto _ : state) {
        for (uint64_t i = 0; i < kMessagesPerIteration; ++i) {
            Request copy;
            while (!queue->pop(copy)) umka::ring::relax_cpu();
            wrong += copy.request_id != expected++;
            benchmark::DoNotOptimize(copy);
        }
    }
    producer_thread.join();
    if (wrong != 0) state.SkipWithError("boost lost or reordered messages");
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kMessagesPerIteration));
}

// Batches of kBatch: the ring's producer stages entries and publishes them with one index
// store, its consumer releases once per batch; boost's push/pop of arrays do the same.
constexpr uint64_t kBatch = 32;

void BM_RingThroughputBatched(benchmark::State& state) {
    Binding binding(kEntries);
    ThreadSignals signals(kSpinPolls);
    const uint64_t total = state.max_iterations * kMessagesPerIteration;
    pin_to_cpu(0);
    std::thread producer_thread([&] {
        pin_to_cpu(1);
        SpscProducer<Request> producer(binding.pair.requests(), signals.signals(),
                                       RingParty::Caller, RingParty::Provider);
        Request entry = make_entry();
        for (uint64_t i = 0; i < total; ++i) {
            Request* slot;
            while ((slot = producer.try_reserve()) == nullptr) (void)producer.wait_for_space();
            entry.request_id = i;
            *slot = entry;
            producer.stage();
            if (i % kBatch == kBatch - 1) producer.flush();
        }
        producer.flush();
    });
    SpscConsumer<Request> consumer(binding.pair.requests(), signals.signals(), RingParty::Provider,
                                   RingParty::Caller);
    uint64_t expected = 0, wrong = 0;
    for (auto _ : state) {
        for (uint64_t i = 0; i < kMessagesPerIteration; ++i) {
            const Request* entry;
            while ((entry = consumer.peek()) == nullptr) (void)consumer.wait_for_entries();
            Request copy = *entry;
            consumer.consume();
            if (i % kBatch == kBatch - 1) consumer.release();
            wrong += copy.request_id != expected++;
            benchmark::DoNotOptimize(copy);
        }
    }
    consumer.release();
    producer_thread.join();
    if (wrong != 0) state.SkipWithError("the ring lost or reordered messages");
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kMessagesPerIteration));
}

void BM_BoostThroughputBatched(benchmark::State& state) {
    auto queue = std::make_unique<BoostQueue>();
    const uint64_t total = state.max_iterations * kMessagesPerIteration;
    pin_to_cpu(0);
    std::thread producer_thread([&] {
        pin_to_cpu(1);
        std::vector<Request> batch(kBatch, make_entry());
        for (uint64_t i = 0; i < total; i += kBatch) {
            for (uint64_t j = 0; j < kBatch; ++j) batch[j].request_id = i + j;
            size_t pushed = 0;
            while (pushed < kBatch) {
                size_t now = queue->push(batch.data() + pushed, kBatch - pushed);
                if (now == 0) umka::ring::relax_cpu();
                pushed += now;
            }
        }
    });
    std::vector<Request> batch(kBatch);
    uint64_t expected = 0, wrong = 0;
    for (auto _ : state) {
        for (uint64_t taken = 0; taken < kMessagesPerIteration;) {
            size_t now =
                queue->pop(batch.data(), std::min<uint64_t>(kBatch, kMessagesPerIteration - taken));
            if (now == 0) umka::ring::relax_cpu();
            for (size_t j = 0; j < now; ++j) wrong += batch[j].request_id != expected++;
            taken += now;
        }
        benchmark::DoNotOptimize(batch.data());
    }
    producer_thread.join();
    if (wrong != 0) state.SkipWithError("boost lost or reordered messages");
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kMessagesPerIteration));
}

// --- Round trip ----------------------------------------------------------------------

void BM_RingRoundTrip(benchmark::State& state) {
    Binding binding(kRoundTripEntries);
    ThreadSignals signals(kSpinPolls);
    pin_to_cpu(0);
    std::thread answering_thread([&] {
        pin_to_cpu(1);
        SpscConsumer<Request> requests(binding.pair.requests(), signals.signals(),
                                       RingParty::Provider, RingParty::Caller);
        SpscProducer<Completion> completions(binding.pair.completions(), signals.signals(),
                                             RingParty::Provider, RingParty::Caller);
        for (;;) {
            const Request* request = requests.peek();
            if (request == nullptr) {
                if (requests.wait_for_entries() == WaitOutcome::Closed) return;
                continue;
            }
            Request copy = *request;
            requests.consume();
            requests.release();
            Completion* completion;
            while ((completion = completions.try_reserve()) == nullptr) {
                if (completions.wait_for_space() == WaitOutcome::Closed) return;
            }
            completion->request_id = copy.request_id;
            completion->opcode = copy.opcode;
            completion->status = 0;
            completions.publish();
        }
    });
    SpscProducer<Request> requests(binding.pair.requests(), signals.signals(), RingParty::Caller,
                                   RingParty::Provider);
    SpscConsumer<Completion> completions(binding.pair.completions(), signals.signals(),
                                         RingParty::Caller, RingParty::Provider);
    Request entry = make_entry();
    uint64_t sequence = 0, wrong = 0;
    for (auto _ : state) {
        Request* slot;
        while ((slot = requests.try_reserve()) == nullptr) (void)requests.wait_for_space();
        entry.request_id = sequence;
        *slot = entry;
        requests.publish();
        const Completion* completion;
        while ((completion = completions.peek()) == nullptr) (void)completions.wait_for_entries();
        wrong += completion->request_id != sequence++;
        completions.consume();
        completions.release();
    }
    binding.pair.close(*signals.signals());
    answering_thread.join();
    if (wrong != 0) state.SkipWithError("a round trip came back with the wrong id");
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

using BoostPingQueue =
    boost::lockfree::spsc_queue<Request, boost::lockfree::capacity<kRoundTripEntries>>;

void BM_BoostRoundTrip(benchmark::State& state) {
    auto requests = std::make_unique<BoostPingQueue>();
    auto answers = std::make_unique<BoostPingQueue>();
    std::atomic<bool> stop{false};
    pin_to_cpu(0);
    std::thread answering_thread([&] {
        pin_to_cpu(1);
        Request copy;
        for (;;) {
            while (!requests->pop(copy)) {
                if (stop.load(std::memory_order_relaxed)) return;
                umka::ring::relax_cpu();
            }
            while (!answers->push(copy)) umka::ring::relax_cpu();
        }
    });
    Request entry = make_entry();
    uint64_t sequence = 0, wrong = 0;
    for (auto _ : state) {
        entry.request_id = sequence;
        while (!requests->push(entry)) umka::ring::relax_cpu();
        Request answer;
        while (!answers->pop(answer)) umka::ring::relax_cpu();
        wrong += answer.request_id != sequence++;
    }
    stop = true;
    answering_thread.join();
    if (wrong != 0) state.SkipWithError("a boost round trip came back with the wrong id");
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// --- Through the binding API -----------------------------------------------------------

void echo(void*, const Request& request, Completion& completion) {
    std::memcpy(completion.payload, request.payload, sizeof(uint64_t));
}

void BM_RingCallRoundTrip(benchmark::State& state) {
    Binding binding(kRoundTripEntries);
    ThreadSignals signals(kSpinPolls);
    RingProvider provider(binding.pair, signals.signals());
    pin_to_cpu(0);
    std::thread provider_thread([&] {
        pin_to_cpu(1);
        (void)run_provider(provider, {nullptr, &echo}, 32);
    });
    RingCaller caller(binding.pair, signals.signals());
    uint64_t failed = 0;
    for (auto _ : state) {
        Request* entry = caller.reserve();
        entry->opcode = 1;
        entry->payload_size = sizeof(uint64_t);
        const Completion* completion = caller.call(*entry);
        if (completion == nullptr) {
            ++failed;
            break;
        }
        caller.release(*completion);
    }
    caller.close();
    provider_thread.join();
    if (failed != 0) state.SkipWithError("a ring call failed");
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_RingBindingThroughput(benchmark::State& state) {
    Binding binding(kEntries);
    ThreadSignals signals(kSpinPolls);
    RingProvider provider(binding.pair, signals.signals());
    pin_to_cpu(0);
    std::thread provider_thread([&] {
        pin_to_cpu(1);
        (void)run_provider(provider, {nullptr, &echo}, 64);
    });
    uint64_t completed = 0;
    umka::ring::CompletionHandler handler{
        &completed, [](void* context, const Completion&) { ++*static_cast<uint64_t*>(context); }};
    RingCaller caller(binding.pair, signals.signals(), handler);
    for (auto _ : state) {
        for (uint64_t i = 0; i < kMessagesPerIteration; ++i) {
            Request* entry = caller.reserve();
            entry->opcode = 1;
            entry->payload_size = sizeof(uint64_t);
            (void)caller.submit(*entry);
        }
    }
    (void)caller.drain();
    caller.close();
    provider_thread.join();
    if (completed != state.iterations() * kMessagesPerIteration) {
        state.SkipWithError("completions lost");
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kMessagesPerIteration));
}

BENCHMARK(BM_RingThroughput)->UseRealTime();
BENCHMARK(BM_BoostThroughput)->UseRealTime();
BENCHMARK(BM_RingThroughputBatched)->UseRealTime();
BENCHMARK(BM_BoostThroughputBatched)->UseRealTime();
BENCHMARK(BM_RingRoundTrip)->UseRealTime();
BENCHMARK(BM_BoostRoundTrip)->UseRealTime();
BENCHMARK(BM_RingCallRoundTrip)->UseRealTime();
BENCHMARK(BM_RingBindingThroughput)->UseRealTime();

// --- Ratios --------------------------------------------------------------------------

// Remembers items/s per case (the median when repetitions are on) while the chosen
// reporter prints as usual.
template <typename Base>
class RateCollector : public Base {
public:
    using Base::Base;
    void ReportRuns(const std::vector<benchmark::BenchmarkReporter::Run>& runs) override {
        for (const auto& run : runs) {
            auto rate = run.counters.find("items_per_second");
            if (run.error_occurred || rate == run.counters.end()) continue;
            const std::string& name = run.run_name.function_name;
            if (run.run_type == benchmark::BenchmarkReporter::Run::RT_Aggregate) {
                if (run.aggregate_name == "median") medians_[name] = rate->second.value;
            } else {
                last_[name] = rate->second.value;
            }
        }
        Base::ReportRuns(runs);
    }
    double rate(const std::string& name) const {
        if (auto median = medians_.find(name); median != medians_.end()) return median->second;
        auto last = last_.find(name);
        return last == last_.end() ? 0.0 : last->second;
    }

private:
    std::map<std::string, double> medians_, last_;
};

template <typename Collector>
void print_ratios(const Collector& collector, FILE* out) {
    auto line = [&](const char* what, const char* ours, const char* theirs, bool latency,
                    const char* goal) {
        double ours_rate = collector.rate(ours), theirs_rate = collector.rate(theirs);
        if (ours_rate == 0 || theirs_rate == 0) {
            std::fprintf(out, "ratio %-34s not measured (%s or %s did not run)\n", what, ours,
                         theirs);
            return;
        }
        if (latency) {
            double ours_ns = 1e9 / ours_rate, theirs_ns = 1e9 / theirs_rate;
            std::fprintf(out, "ratio %-34s %8.1f ns vs %8.1f ns = %5.2fx (goal %s)\n", what,
                         ours_ns, theirs_ns, ours_ns / theirs_ns, goal);
        } else {
            std::fprintf(out, "ratio %-34s %8.1f M/s vs %8.1f M/s = %5.2fx (goal %s)\n", what,
                         ours_rate / 1e6, theirs_rate / 1e6, ours_rate / theirs_rate, goal);
        }
    };
    line("throughput ring/boost", "BM_RingThroughput", "BM_BoostThroughput", false, ">= 1.0");
    line("throughput, batches of 32", "BM_RingThroughputBatched", "BM_BoostThroughputBatched",
         false, ">= 1.0");
    line("round trip ring/boost", "BM_RingRoundTrip", "BM_BoostRoundTrip", true, "<= 1.0");
    line("ring call round trip / boost", "BM_RingCallRoundTrip", "BM_BoostRoundTrip", true,
         "informative");
}

}  // namespace

int main(int argc, char** argv) {
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--benchmark_format=json") json = true;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    if (json) {
        RateCollector<benchmark::JSONReporter> reporter;
        benchmark::RunSpecifiedBenchmarks(&reporter);
        print_ratios(reporter, stderr);
    } else {
        // Colour only on a terminal, as the library's own console reporter does.
        RateCollector<benchmark::ConsoleReporter> reporter(
            isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Defaults
                                  : benchmark::ConsoleReporter::OO_Tabular);
        benchmark::RunSpecifiedBenchmarks(&reporter);
        print_ratios(reporter, stdout);
    }
    benchmark::Shutdown();
    return 0;
}
