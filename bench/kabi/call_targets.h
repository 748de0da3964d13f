// The three call targets, defined in call_targets.cpp so the benchmark's translation unit
// cannot see through them (no inlining, no devirtualisation): each call is a real call.
#pragma once

#include <stdint.h>

#include "umka/kabi/bench_call.hpp"

namespace bench {

struct Counter {
    uint64_t total = 0;
};

// Plain C++ interface for the virtual-call baseline.
class VirtualCounter {
public:
    virtual ~VirtualCounter() = default;
    virtual int32_t add(uint64_t amount) = 0;
};

int32_t direct_add(Counter* counter, uint64_t amount);
VirtualCounter* make_virtual_counter(Counter* counter);
const umka::kabi::bench_call::CounterVtable* counter_vtable();

}  // namespace bench
