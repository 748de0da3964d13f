// The storm limit of one interrupt binding, as a pure state machine over the clock: each
// handled interrupt is counted in the current one-second window; the one that reaches the
// limit ends the window early, and the caller keeps the source masked until the window's
// second is over (then a fresh window starts). Host-tested (test/host/interrupts/).
#pragma once

#include <stdint.h>

namespace umka::interrupts {

class StormWindow {
public:
    static constexpr uint64_t kWindowNs = 1'000'000'000;

    explicit constexpr StormWindow(uint32_t limit) : limit_(limit) {}

    // Counts one handled interrupt at `now_ns`. Returns 0 to carry on, or how long the source
    // must stay masked (the rest of the window) when this one reached the limit.
    uint64_t count(uint64_t now_ns) {
        if (!started_ || now_ns - start_ns_ >= kWindowNs) {
            start_ns_ = now_ns;
            counted_ = 0;
            started_ = true;
        }
        if (++counted_ < limit_) return 0;
        uint64_t rest = kWindowNs - (now_ns - start_ns_);
        started_ = false;  // the next interrupt, after the pause, opens a fresh window
        ++storms_;
        return rest;
    }

    uint64_t storms() const { return storms_; }

private:
    uint32_t limit_;
    uint32_t counted_ = 0;
    uint64_t start_ns_ = 0;
    uint64_t storms_ = 0;
    bool started_ = false;
};

}  // namespace umka::interrupts
