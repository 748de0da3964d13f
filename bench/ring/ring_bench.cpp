// Ring transport against two competitors, in one run, two threads pinned to two CPUs
// (when the affinity call is allowed):
//   boost    boost::lockfree::spsc_queue;
//   cached   CachedSpscQueue below: a Lamport queue whose ends keep a cached copy of the
//            other end's index (re-read only when it says full/empty), each index and
//            each cached copy on its own cache line. The textbook fast SPSC queue.
// Shapes:
//   throughput  one thread sends 128-byte entries (umka_kabi_ring_request), the other
//               takes them; every implementation copies each whole entry in and out,
//               one publish/release per message;
//   batched     one publish (ring: stage + flush; baselines: push of an array) and one
//               release per 32 messages, the same 128 bytes copied in and out per entry;
//   round trip  one thread sends a request and waits for the answer, the other copies
//               the request out, builds a 128-byte completion from it (make_answer) and
//               sends it back; the first copies the completion out. Same bytes everywhere.
//   call        the same round trip through RingCaller::call and run_provider (dispatch
//               included): what a synchronous ring call costs. No competitor: unlabelled.
//   binding     asynchronous submits through RingCaller, run_provider answering in
//               batches, completions reaped. No competitor: unlabelled.
// Each ring shape is registered twice, once per competitor, with the same code:
// BM_Ring<Shape> (label baseline=BM_Boost<Shape>/real_time) and BM_Ring<Shape>VsCached
// (label baseline=BM_Cached<Shape>/real_time); bench/run_benchmarks.py divides each by its
// baseline from the same run (the suite prints no ratios itself).
// Our ends poll (RingSignals::spin_polls) before they would sleep, as the competitors'
// users spin; with both threads busy no doorbell is needed, so this measures the ring
// itself plus the sleep-announcement check on every publish and release.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstring>
#include <iterator>
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

// --- The cached-index competitor ------------------------------------------------------

// Lamport's SPSC queue with cached indices (as in rigtorp::SPSCQueue, folly's
// ProducerConsumerQueue): the API of boost's spsc_queue that the cases below use.
template <typename T, size_t kCapacity>
class CachedSpscQueue {
    static_assert((kCapacity & (kCapacity - 1)) == 0, "power of two");

public:
    bool push(const T& value) { return push(&value, 1) == 1; }
    bool pop(T& value) { return pop(&value, 1) == 1; }
    size_t push(const T* values, size_t count) {
        const size_t head = head_.load(std::memory_order_relaxed);
        if (kCapacity - (head - cached_tail_) < count) {
            cached_tail_ = tail_.load(std::memory_order_acquire);
        }
        count = std::min(count, kCapacity - (head - cached_tail_));
        for (size_t i = 0; i < count; ++i) slots_[(head + i) & (kCapacity - 1)] = values[i];
        head_.store(head + count, std::memory_order_release);
        return count;
    }
    size_t pop(T* values, size_t count) {
        const size_t tail = tail_.load(std::memory_order_relaxed);
        if (cached_head_ - tail < count) cached_head_ = head_.load(std::memory_order_acquire);
        count = std::min(count, cached_head_ - tail);
        for (size_t i = 0; i < count; ++i) values[i] = slots_[(tail + i) & (kCapacity - 1)];
        tail_.store(tail + count, std::memory_order_release);
        return count;
    }

private:
    alignas(64) std::atomic<size_t> head_{0};
    alignas(64) size_t cached_tail_ = 0;  // the producer's copy of tail_
    alignas(64) std::atomic<size_t> tail_{0};
    alignas(64) size_t cached_head_ = 0;  // the consumer's copy of head_
    alignas(64) T slots_[kCapacity];
};

// --- Throughput ----------------------------------------------------------------------

// The ring cases take the name of the baseline they are divided by (the label).
void BM_RingThroughput(benchmark::State& state, const char* baseline) {
    state.SetLabel(std::string("baseline=") + baseline);
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
using CachedQueue = CachedSpscQueue<Request, kEntries>;

template <typename Queue>
void queue_throughput(benchmark::State& state, const char* what) {
    auto queue = std::make_unique<Queue>();
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
    if (wrong != 0)
        state.SkipWithError((std::string(what) + " lost or reordered messages").c_str());
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kMessagesPerIteration));
}

void BM_BoostThroughput(benchmark::State& state) {
    queue_throughput<BoostQueue>(state, "boost");
}
void BM_CachedThroughput(benchmark::State& state) {
    queue_throughput<CachedQueue>(state, "the cached-index queue");
}

// Batches of kBatch, each side working as the baselines' push/pop of arrays do: the
// producer copies a batch into the free slots in a row (try_reserve_run, one copy per run)
// and publishes it with one index store, the consumer copies out what is ready in a row
// (peek_run) and releases it with one store.
constexpr uint64_t kBatch = 32;

void BM_RingThroughputBatched(benchmark::State& state, const char* baseline) {
    state.SetLabel(std::string("baseline=") + baseline);
    Binding binding(kEntries);
    ThreadSignals signals(kSpinPolls);
    const uint64_t total = state.max_iterations * kMessagesPerIteration;
    pin_to_cpu(0);
    std::thread producer_thread([&] {
        pin_to_cpu(1);
        SpscProducer<Request> producer(binding.pair.requests(), signals.signals(),
                                       RingParty::Caller, RingParty::Provider);
        std::vector<Request> batch(kBatch, make_entry());
        for (uint64_t i = 0; i < total; i += kBatch) {
            for (uint64_t j = 0; j < kBatch; ++j) batch[j].request_id = i + j;
            for (uint64_t pushed = 0; pushed < kBatch;) {
                uint64_t count = 0;
                Request* run = producer.try_reserve_run(kBatch - pushed, count);
                if (run == nullptr) {
                    (void)producer.wait_for_space();
                    continue;
                }
                std::memcpy(run, batch.data() + pushed, count * sizeof(Request));
                producer.stage(count);
                pushed += count;
            }
            producer.flush();
        }
    });
    SpscConsumer<Request> consumer(binding.pair.requests(), signals.signals(), RingParty::Provider,
                                   RingParty::Caller);
    std::vector<Request> batch(kBatch);
    uint64_t expected = 0, wrong = 0;
    for (auto _ : state) {
        for (uint64_t taken = 0; taken < kMessagesPerIteration;) {
            uint64_t count = 0;
            const Request* run =
                consumer.peek_run(std::min<uint64_t>(kBatch, kMessagesPerIteration - taken), count);
            if (run == nullptr) {
                (void)consumer.wait_for_entries();
                continue;
            }
            std::memcpy(batch.data(), run, count * sizeof(Request));
            consumer.consume(count);
            consumer.release();
            for (uint64_t j = 0; j < count; ++j) wrong += batch[j].request_id != expected++;
            taken += count;
        }
        benchmark::DoNotOptimize(batch.data());
    }
    producer_thread.join();
    if (wrong != 0) state.SkipWithError("the ring lost or reordered messages");
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kMessagesPerIteration));
}

template <typename Queue>
void queue_throughput_batched(benchmark::State& state, const char* what) {
    auto queue = std::make_unique<Queue>();
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
    if (wrong != 0)
        state.SkipWithError((std::string(what) + " lost or reordered messages").c_str());
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kMessagesPerIteration));
}

void BM_BoostThroughputBatched(benchmark::State& state) {
    queue_throughput_batched<BoostQueue>(state, "boost");
}
void BM_CachedThroughputBatched(benchmark::State& state) {
    queue_throughput_batched<CachedQueue>(state, "the cached-index queue");
}

// --- Round trip ----------------------------------------------------------------------

// The answer every round trip sends back: a whole completion built from the request (its
// id, opcode and payload), so each direction copies 128 bytes in every implementation.
Completion make_answer(const Request& request) {
    Completion answer;
    answer.request_id = request.request_id;
    answer.opcode = request.opcode;
    answer.status = 0;
    std::memcpy(answer.payload, request.payload, sizeof(answer.payload));
    return answer;
}

void BM_RingRoundTrip(benchmark::State& state, const char* baseline) {
    state.SetLabel(std::string("baseline=") + baseline);
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
            *completion = make_answer(copy);
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
        Completion answer = *completion;
        completions.consume();
        completions.release();
        wrong += answer.request_id != sequence++;
        benchmark::DoNotOptimize(answer);
    }
    binding.pair.close(*signals.signals());
    answering_thread.join();
    if (wrong != 0) state.SkipWithError("a round trip came back with the wrong id");
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

template <template <typename> class Queue>
void queue_round_trip(benchmark::State& state, const char* what) {
    auto requests = std::make_unique<Queue<Request>>();
    auto answers = std::make_unique<Queue<Completion>>();
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
            while (!answers->push(make_answer(copy))) umka::ring::relax_cpu();
        }
    });
    Request entry = make_entry();
    uint64_t sequence = 0, wrong = 0;
    for (auto _ : state) {
        entry.request_id = sequence;
        while (!requests->push(entry)) umka::ring::relax_cpu();
        Completion answer;
        while (!answers->pop(answer)) umka::ring::relax_cpu();
        wrong += answer.request_id != sequence++;
        benchmark::DoNotOptimize(answer);
    }
    stop = true;
    answering_thread.join();
    if (wrong != 0)
        state.SkipWithError(
            (std::string("a round trip through ") + what + " came back with the wrong id").c_str());
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

template <typename T>
using BoostPingQueue = boost::lockfree::spsc_queue<T, boost::lockfree::capacity<kRoundTripEntries>>;
template <typename T>
using CachedPingQueue = CachedSpscQueue<T, kRoundTripEntries>;

void BM_BoostRoundTrip(benchmark::State& state) {
    queue_round_trip<BoostPingQueue>(state, "boost");
}
void BM_CachedRoundTrip(benchmark::State& state) {
    queue_round_trip<CachedPingQueue>(state, "the cached-index queue");
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

// Each ring shape once per competitor (see the top of the file); competitors first, so a
// filtered run still finds the baseline next to its ring case.
void register_cases() {
    struct Shape {
        const char* ring;
        void (*ring_case)(benchmark::State&, const char*);
        const char* boost;
        void (*boost_case)(benchmark::State&);
        const char* cached;
        void (*cached_case)(benchmark::State&);
    };
    const Shape shapes[] = {
        {"BM_RingThroughput", BM_RingThroughput, "BM_BoostThroughput", BM_BoostThroughput,
         "BM_CachedThroughput", BM_CachedThroughput},
        {"BM_RingThroughputBatched", BM_RingThroughputBatched, "BM_BoostThroughputBatched",
         BM_BoostThroughputBatched, "BM_CachedThroughputBatched", BM_CachedThroughputBatched},
        {"BM_RingRoundTrip", BM_RingRoundTrip, "BM_BoostRoundTrip", BM_BoostRoundTrip,
         "BM_CachedRoundTrip", BM_CachedRoundTrip},
    };
    // The ring cases keep pointers to their baseline's name: reserved once, never moved.
    static std::vector<std::string> labels;
    labels.reserve(2 * std::size(shapes));
    for (const Shape& shape : shapes) {
        // Google Benchmark appends "/real_time" to the name of a UseRealTime() case.
        labels.push_back(std::string(shape.boost) + "/real_time");
        const char* versus_boost = labels.back().c_str();
        labels.push_back(std::string(shape.cached) + "/real_time");
        const char* versus_cached = labels.back().c_str();
        benchmark::RegisterBenchmark(shape.boost, shape.boost_case)->UseRealTime();
        benchmark::RegisterBenchmark(shape.ring, shape.ring_case, versus_boost)->UseRealTime();
        benchmark::RegisterBenchmark(shape.cached, shape.cached_case)->UseRealTime();
        benchmark::RegisterBenchmark((std::string(shape.ring) + "VsCached").c_str(),
                                     shape.ring_case, versus_cached)
            ->UseRealTime();
    }
    benchmark::RegisterBenchmark("BM_RingCallRoundTrip", BM_RingCallRoundTrip)->UseRealTime();
    benchmark::RegisterBenchmark("BM_RingBindingThroughput", BM_RingBindingThroughput)
        ->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
    register_cases();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
