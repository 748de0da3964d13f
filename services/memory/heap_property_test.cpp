// The heap property test: randomised allocate/free sequences from several std::threads,
// four calling as CPUs 0..3 (the nucleus's rule: one call per CPU index at a time) and one
// as a CPU index no cache covers (the shared path), with allocations handed between
// threads so objects are freed on other CPUs than they came from. Three phases, each
// ended at a quiescent point (all threads at a barrier): steady churn; churn with bursts
// (many objects of one class at once, then freed: the depot overflows into the slabs and
// slabs go back to the nucleus); freeing everything. Then each CPU reclaims. Properties:
//  * no overlap: every allocation is filled with a pattern of its own, checked at free and
//    periodically, and at each quiescent point all live allocations are sorted and checked
//    for overlap over their usable sizes;
//  * no loss: at each quiescent point the per-class statistics equal a model of the calls
//    and the books balance (slabs * objects = live + cached + free in slabs; the heap's
//    region count is what the nucleus handed it); at the end the heap holds nothing but
//    its metadata;
//  * freed memory is reused: the steady phase obtains far fewer slabs from the nucleus
//    than a heap that never reused a freed object would need.
// The seed is random per run and printed on failure; UMKA_HEAP_SEED=<n> repeats a run.
#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include "heap_test_support.h"

namespace umka::heap_test {
namespace {

// Threads with CPU caches (CPUs 0..3) and one calling as a CPU index no cache directory
// covers, so the shared path (class locks only) runs concurrently with the magazines.
constexpr uint32_t kThreads = 5;
constexpr uint32_t kCpuWithoutCache = 0xFFFFFF00;
constexpr uint32_t kOperationsPerThread = 30000;  // per phase
constexpr size_t kMaximumLivePerThread = 800;
constexpr uint32_t kLargeClass = kClassCount;  // model index of large allocations
constexpr uint32_t kCheckEvery = 4000;         // operations between full pattern checks
// The steady phase must obtain at most half the slabs a heap that never reused freed
// objects would need (measured: about a quarter; most regions hold the live objects and
// the magazines' caches, a few per cent are slabs given back and obtained again).
constexpr uint64_t kReuseFactor = 2;

struct Allocation {
    uint64_t address;
    uint64_t size;
    uint64_t usable;
    uint64_t pattern;
    uint32_t model_class;
};

// The pattern of one allocation: every 8-byte word (and the tail) derived from its own
// seed and position, so bytes of one allocation written over another's are caught.
uint64_t word_of(uint64_t pattern, uint64_t index) {
    return pattern ^ (index * 0x9E3779B97F4A7C15ull);
}

void fill(const Allocation& allocation) {
    auto* bytes = reinterpret_cast<uint8_t*>(allocation.address);
    uint64_t words = allocation.size / 8;
    for (uint64_t index = 0; index < words; ++index) {
        uint64_t word = word_of(allocation.pattern, index);
        std::memcpy(bytes + index * 8, &word, 8);
    }
    uint64_t tail = word_of(allocation.pattern, words);
    std::memcpy(bytes + words * 8, &tail, allocation.size % 8);
}

// Empty when intact; otherwise where it first differs.
std::string damage(const Allocation& allocation) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(allocation.address);
    for (uint64_t offset = 0; offset < allocation.size; ++offset) {
        uint64_t word = word_of(allocation.pattern, offset / 8);
        if (bytes[offset] != uint8_t(word >> (8 * (offset % 8)))) {
            return "allocation " + hex(allocation.address) + " of " +
                   std::to_string(allocation.size) + " bytes was overwritten at offset " +
                   std::to_string(offset);
        }
    }
    return "";
}

struct Model {
    uint64_t allocations[kClassCount + 1] = {};
    uint64_t frees[kClassCount + 1] = {};
};

// Allocations a thread hands to another thread to free.
class Mailbox {
public:
    void put(const Allocation& allocation) {
        std::lock_guard lock(mutex_);
        items_.push_back(allocation);
    }
    bool take(Allocation* allocation) {
        std::lock_guard lock(mutex_);
        if (items_.empty()) return false;
        *allocation = items_.back();
        items_.pop_back();
        return true;
    }
    const std::vector<Allocation>& items() const { return items_; }  // quiescent only

private:
    std::mutex mutex_;
    std::vector<Allocation> items_;
};

uint64_t run_seed() {
    if (const char* text = std::getenv("UMKA_HEAP_SEED")) return std::strtoull(text, nullptr, 0);
    return std::random_device{}();
}

enum class Phase { Steady, WithBursts };

class HeapProperty : public HeapTest {
protected:
    struct Worker {
        uint32_t cpu = 0;
        std::mt19937_64 random;
        std::vector<Allocation> live;
        Model model;
        uint64_t small_allocations = 0;
        uint64_t bursts = 0;
    };

    // A size (and alignment) as kernel code asks: mostly small objects, some page-sized
    // buffers, some with an alignment.
    void pick_request(Worker& worker, uint64_t* size, uint64_t* alignment) {
        uint64_t roll = worker.random() % 100;
        *alignment = 0;
        if (roll < 80) {
            uint32_t index = uint32_t(worker.random() % kClassCount);
            uint64_t low = index == 0 ? 1 : kClassSizes[index - 1] + 1;
            *size = low + worker.random() % (kClassSizes[index] - low + 1);
        } else if (roll < 92) {
            *size = kLargestClass + 1 + worker.random() % 40000;
        } else {
            *size = 1 + worker.random() % 5000;
            *alignment = uint64_t(16) << (worker.random() % 10);  // 16 .. 8192
        }
    }

    bool allocate_one(Worker& worker) {
        uint64_t size = 0;
        uint64_t alignment = 0;
        pick_request(worker, &size, &alignment);
        Allocation allocation{0, size, 0, worker.random(), 0};
        umka::kabi::Status status =
            heap_.allocate(worker.cpu, size, alignment, &allocation.address);
        if (status.is_error()) {
            ADD_FAILURE() << "CPU " << worker.cpu << ": allocate(" << size << ", " << alignment
                          << ") failed with errno " << status.code();
            return false;
        }
        if (heap_.usable_size(allocation.address, &allocation.usable).is_error() ||
            allocation.usable < size ||
            allocation.address % std::max<uint64_t>(alignment, 16) != 0) {
            ADD_FAILURE() << "CPU " << worker.cpu << ": allocate(" << size << ", " << alignment
                          << ") gave " << hex(allocation.address) << " with usable size "
                          << allocation.usable;
            return false;
        }
        allocation.model_class = allocation.usable <= kLargestClass && alignment <= kPage
                                     ? class_index_for(allocation.usable)
                                     : kLargeClass;
        fill(allocation);
        worker.model.allocations[allocation.model_class] += 1;
        if (allocation.model_class != kLargeClass) worker.small_allocations += 1;
        worker.live.push_back(allocation);
        return true;
    }

    bool free_one(Worker& worker, const Allocation& allocation) {
        if (std::string damaged = damage(allocation); !damaged.empty()) {
            ADD_FAILURE() << "CPU " << worker.cpu << ": " << damaged;
            return false;
        }
        umka::kabi::Status status = heap_.free(worker.cpu, allocation.address);
        if (status.is_error()) {
            ADD_FAILURE() << "CPU " << worker.cpu << ": free(" << hex(allocation.address)
                          << ") failed with errno " << status.code();
            return false;
        }
        worker.model.frees[allocation.model_class] += 1;
        return true;
    }

    Allocation take_random(Worker& worker) {
        size_t victim = worker.random() % worker.live.size();
        Allocation allocation = worker.live[victim];
        worker.live[victim] = worker.live.back();
        worker.live.pop_back();
        return allocation;
    }

    // Many objects of one class at once, then all freed: more full magazines than the
    // depot keeps, so objects go back to their slabs (and slabs to the nucleus), and later
    // allocations come from slab free lists.
    bool burst(Worker& worker) {
        uint32_t index = uint32_t(worker.random() % kClassCount);
        uint32_t count = 200 + uint32_t(worker.random() % 1000);
        std::vector<Allocation> batch;
        for (uint32_t object = 0; object < count; ++object) {
            Allocation allocation{0, kClassSizes[index], kClassSizes[index], worker.random(),
                                  index};
            umka::kabi::Status status =
                heap_.allocate(worker.cpu, allocation.size, 0, &allocation.address);
            if (status.is_error()) {
                ADD_FAILURE() << "CPU " << worker.cpu << ": burst allocate(" << allocation.size
                              << ") failed with errno " << status.code();
                return false;
            }
            fill(allocation);
            worker.model.allocations[index] += 1;
            worker.small_allocations += 1;
            batch.push_back(allocation);
        }
        for (const Allocation& allocation : batch) {
            if (!free_one(worker, allocation)) return false;
        }
        worker.bursts += 1;
        return true;
    }

    // A random phase of one thread; false after the first failure.
    bool churn(Worker& worker, Phase phase) {
        for (uint32_t step = 1; step <= kOperationsPerThread; ++step) {
            uint64_t roll = worker.random() % 100;
            bool ok = true;
            if (phase == Phase::WithBursts && roll == 0 && worker.random() % 8 == 0) {
                ok = burst(worker);
            } else if (worker.live.size() < kMaximumLivePerThread && roll < 52) {
                ok = allocate_one(worker);
            } else if (roll < 62 && !worker.live.empty()) {
                mailbox_.put(take_random(worker));
            } else if (roll < 72) {
                Allocation allocation{};
                if (mailbox_.take(&allocation)) ok = free_one(worker, allocation);
            } else if (!worker.live.empty()) {
                ok = free_one(worker, take_random(worker));
            }
            if (ok && step % kCheckEvery == 0) {
                for (const Allocation& allocation : worker.live) {
                    if (std::string damaged = damage(allocation); !damaged.empty()) {
                        ADD_FAILURE()
                            << "CPU " << worker.cpu << " at step " << step << ": " << damaged;
                        ok = false;
                        break;
                    }
                }
            }
            if (!ok) return false;
        }
        return true;
    }

    // At a quiescent point: no two live allocations overlap, and the statistics are the
    // model's.
    void check_quiescent(const std::string& when) {
        std::vector<Allocation> all = mailbox_.items();
        Model total;
        for (const Worker& worker : workers_) {
            all.insert(all.end(), worker.live.begin(), worker.live.end());
            for (uint32_t index = 0; index <= kClassCount; ++index) {
                total.allocations[index] += worker.model.allocations[index];
                total.frees[index] += worker.model.frees[index];
            }
        }
        std::sort(all.begin(), all.end(),
                  [](const Allocation& a, const Allocation& b) { return a.address < b.address; });
        for (size_t at = 1; at < all.size(); ++at) {
            ASSERT_LE(all[at - 1].address + all[at - 1].usable, all[at].address)
                << when << ": live allocations " << hex(all[at - 1].address) << " ("
                << all[at - 1].usable << " usable bytes) and " << hex(all[at].address)
                << " overlap";
        }
        for (uint32_t index = 0; index < kClassCount; ++index) {
            memory::HeapClassStatistics figures = class_statistics(index);
            EXPECT_EQ(figures.allocations, total.allocations[index]) << when << ": class " << index;
            EXPECT_EQ(figures.frees, total.frees[index]) << when << ": class " << index;
        }
        memory::HeapStatistics totals = statistics();
        EXPECT_EQ(totals.large_allocations_total, total.allocations[kLargeClass]) << when;
        EXPECT_EQ(totals.large_frees_total, total.frees[kLargeClass]) << when;
        EXPECT_EQ(totals.large_allocations,
                  total.allocations[kLargeClass] - total.frees[kLargeClass])
            << when;
        EXPECT_EQ(totals.failed_allocations, 0u) << when;
        expect_books_balance(when);
    }

    uint64_t model_total(uint32_t model_class) const {
        uint64_t total = 0;
        for (const Worker& worker : workers_) total += worker.model.allocations[model_class];
        return total;
    }

    // Slabs the small allocations so far would have taken if no object were ever reused.
    uint64_t slabs_without_reuse() {
        uint64_t slabs = 0;
        for (uint32_t index = 0; index < kClassCount; ++index) {
            uint64_t per_slab = class_statistics(index).objects_per_slab;
            slabs += (model_total(index) + per_slab - 1) / per_slab;
        }
        return slabs;
    }

    Mailbox mailbox_;
    std::vector<Worker> workers_;
};

TEST_F(HeapProperty, RandomisedAllocateAndFreeAcrossCpusKeepsAllocationsApartAndLosesNothing) {
    uint64_t seed = run_seed();
    SCOPED_TRACE("UMKA_HEAP_SEED=" + std::to_string(seed) + " repeats this run");
    workers_.resize(kThreads);
    for (uint32_t thread = 0; thread < kThreads; ++thread) {
        workers_[thread].cpu = thread + 1 == kThreads ? kCpuWithoutCache : thread;
        workers_[thread].random.seed(seed + thread);
    }
    std::atomic<bool> failed{false};
    // Run at each quiescent point by the last thread to arrive, all others waiting.
    const char* const kPoints[] = {"after the steady phase", "after the phase with bursts",
                                   "after every allocation was freed"};
    int quiescent_points = 0;
    uint64_t steady_regions = 0;
    uint64_t steady_without_reuse = 0;
    auto at_quiescence = [&]() noexcept {
        if (quiescent_points == 0) {
            steady_regions = memory_.allocations() - model_total(kLargeClass);
            steady_without_reuse = slabs_without_reuse();
        }
        check_quiescent(kPoints[std::min(quiescent_points++, 2)]);
    };
    std::barrier sync(kThreads, at_quiescence);

    auto body = [&](Worker& worker) {
        if (!churn(worker, Phase::Steady)) failed = true;
        sync.arrive_and_wait();
        if (!failed && !churn(worker, Phase::WithBursts)) failed = true;
        sync.arrive_and_wait();
        while (!worker.live.empty() && !failed) {
            if (!free_one(worker, take_random(worker))) failed = true;
        }
        Allocation allocation{};
        while (!failed && mailbox_.take(&allocation)) {
            if (!free_one(worker, allocation)) failed = true;
        }
        sync.arrive_and_wait();
        uint64_t released = 0;
        if (heap_.reclaim(worker.cpu, &released).is_error()) {
            ADD_FAILURE() << "reclaim on CPU " << worker.cpu << " failed";
        }
    };
    std::vector<std::thread> threads;
    for (Worker& worker : workers_) threads.emplace_back([&body, &worker] { body(worker); });
    for (std::thread& thread : threads) thread.join();
    ASSERT_FALSE(failed) << "a thread failed (see above)";
    EXPECT_EQ(quiescent_points, 3);

    expect_only_metadata_held("after every CPU reclaimed");
    EXPECT_EQ(statistics().cpu_caches, kThreads - 1);
    uint64_t small_allocations = 0;
    uint64_t bursts = 0;
    for (const Worker& worker : workers_) {
        small_allocations += worker.small_allocations;
        bursts += worker.bursts;
    }
    EXPECT_GT(small_allocations, kThreads * kOperationsPerThread / 2);
    EXPECT_GT(bursts, 0u) << "no burst ran: the depot never overflowed into the slabs";
    // Reuse: in the steady phase, the regions the heap obtained for slabs and metadata
    // (each large allocation is a region of its own) are a small fraction of the slabs a
    // heap that never reused a freed object would have needed.
    EXPECT_LT(steady_regions * kReuseFactor, steady_without_reuse)
        << steady_regions << " slab and metadata regions obtained in the steady phase, which "
        << "without reuse needs " << steady_without_reuse << " slabs";
}

}  // namespace
}  // namespace umka::heap_test
