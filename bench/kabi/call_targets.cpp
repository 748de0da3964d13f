#include "call_targets.h"

namespace bench {
namespace {

class VirtualCounterImpl final : public VirtualCounter {
public:
    explicit VirtualCounterImpl(Counter* counter) : counter_(counter) {}
    int32_t add(uint64_t amount) override {
        counter_->total += amount;
        return 0;
    }

private:
    Counter* counter_;
};

struct CounterImpl {
    static int32_t add(void* context, uint64_t amount) {
        static_cast<Counter*>(context)->total += amount;
        return 0;
    }
};

constexpr umka::kabi::bench_call::CounterVtable vtable =
    umka::kabi::bench_call::make_counter_vtable<CounterImpl>();

}  // namespace

[[gnu::noinline]] int32_t direct_add(Counter* counter, uint64_t amount) {
    counter->total += amount;
    return 0;
}

VirtualCounter* make_virtual_counter(Counter* counter) {
    return new VirtualCounterImpl(counter);
}

const umka::kabi::bench_call::CounterVtable* counter_vtable() {
    return &vtable;
}

}  // namespace bench
