// The guarded direct call on the host (nucleus/containment/direct_guard.h): the arch
// trampoline (arch/x86_64/cpu/direct_call.S) between a consumer and a fake provider's
// vtable, with this file's umka_direct_dispatch doing what the nucleus's does (resolve the
// slot, run the method inside arch_guarded_call) and a signal handler doing what the trap
// handler does on a fault (resume_from_fault). A call must reach the provider with every
// argument word (the six in registers and the six on the stack), and a call that faults
// must answer EIO (a status method) or zero (a value method) while the caller goes on.
#include <arch/direct_call.h>
#include <arch/recovery.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <ucontext.h>

#include <cstdint>

#include "nucleus/containment/direct_guard.h"
#include "signal_resume.h"

namespace umka::containment {
namespace {

arch::RecoveryContext* active = nullptr;
int faults = 0;

void on_fault(int, siginfo_t*, void* argument) {
    ++faults;
    arch::resume_signal_context(*static_cast<ucontext_t*>(argument), *active);
}

// The fake provider: a vtable of four methods, its context a counter of calls.
struct Provider {
    int calls = 0;
};
int32_t divide(void* context, uint64_t dividend, uint64_t divisor, uint64_t* quotient) {
    ++static_cast<Provider*>(context)->calls;
    if (divisor == 0) return 22;  // EINVAL
    *quotient = dividend / divisor;
    return 0;
}
// Twelve argument words: the last six come on the stack.
uint64_t weigh(void* context, uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
               uint64_t f, uint64_t g, uint64_t h, uint64_t i, uint64_t j, uint64_t k) {
    ++static_cast<Provider*>(context)->calls;
    return a * 1 + b * 2 + c * 3 + d * 4 + e * 5 + f * 6 + g * 7 + h * 8 + i * 9 + j * 10 + k * 11;
}
[[gnu::noinline]] int32_t crash_status(void*, uint64_t) {
    asm volatile("xor %%eax, %%eax\n\tmovq $0x5a, (%%rax)" ::: "rax", "memory");
    return 0;
}
[[gnu::noinline]] uint32_t crash_value(void*) {
    asm volatile("ud2");
    return 7;
}

struct FakeVtable {
    umka_kabi_vtable_header header;
    int32_t (*divide)(void*, uint64_t, uint64_t, uint64_t*);
    uint64_t (*weigh)(void*, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                      uint64_t, uint64_t, uint64_t, uint64_t);
    int32_t (*crash_status)(void*, uint64_t);
    uint32_t (*crash_value)(void*);
};
// Version 1 had the first two methods only.
constexpr FakeVtable kVersion2{{sizeof(FakeVtable), 2}, divide, weigh, crash_status, crash_value};
constexpr FakeVtable kVersion1{
    {sizeof(FakeVtable) - 2 * sizeof(void*), 1}, divide, weigh, nullptr, nullptr};
constexpr char kResults[] = "svsv";

int dispatches = 0;

}  // namespace
}  // namespace umka::containment

// What the nucleus's dispatch does (direct_guards.cpp), with arch_guarded_call for the guard.
extern "C" uint64_t umka_direct_dispatch(umka::arch::DirectCallFrame* frame) {
    using namespace umka::containment;
    ++dispatches;
    auto& guard = *reinterpret_cast<DirectGuard*>(frame->registers[0]);
    umka::Result<DirectTarget> target =
        resolve_direct(umka_service_slot_load(guard.provider_slot), frame->method);
    if (target.is_error()) return direct_failure(guard.results, frame->method, target.error());
    frame->registers[0] = reinterpret_cast<uint64_t>(target.value().context);
    struct Call {
        const void* function;
        const umka::arch::DirectCallFrame* frame;
        uint64_t result;
    } call{target.value().function, frame, 0};
    umka::arch::RecoveryContext context{};
    active = &context;
    uint64_t crashed = arch_guarded_call(
        &context,
        [](void* argument) {
            auto& invocation = *static_cast<Call*>(argument);
            invocation.result = umka_direct_invoke(invocation.function, invocation.frame);
        },
        &call);
    active = nullptr;
    return crashed == 0 ? call.result
                        : direct_failure(guard.results, frame->method, umka::Errno::IoError);
}

namespace umka::containment {
namespace {

class DirectCall : public ::testing::Test {
protected:
    static constexpr int kSignals[] = {SIGSEGV, SIGILL};
    void SetUp() override {
        ASSERT_TRUE(arch::install_fault_handlers(on_fault, kSignals, saved_));
        faults = 0;
        dispatches = 0;
        bind(kVersion2);
    }
    void TearDown() override { arch::restore_fault_handlers(kSignals, saved_); }
    void bind(const FakeVtable& vtable) {
        provider_record_ = UmkaServiceRecord{&vtable.header, &provider_, vtable.header.version,
                                             UMKA_KABI_TRANSPORT_DIRECT};
        provider_slot_.record = &provider_record_;
        initialize_guard(guard_, &provider_slot_, provider_record_, kResults, "consumer",
                         "provider", "package", "Fake");
    }
    // What a consumer calls: the guarded record's vtable, as its generated Ref would.
    const FakeVtable& vtable() const {
        return *reinterpret_cast<const FakeVtable*>(umka_service_slot_load(&guard_.slot)->vtable);
    }
    void* context() const { return umka_service_slot_load(&guard_.slot)->context; }

    struct sigaction saved_[NSIG] {};
    Provider provider_;
    UmkaServiceRecord provider_record_{};
    UmkaServiceSlot provider_slot_{};
    DirectGuard guard_{};
};

TEST_F(DirectCall, AStatusMethodGetsItsArgumentsAndAnswers) {
    uint64_t quotient = 0;
    EXPECT_EQ(vtable().divide(context(), 91, 7, &quotient), 0);
    EXPECT_EQ(quotient, 13u);
    EXPECT_EQ(vtable().divide(context(), 1, 0, &quotient), 22);
    EXPECT_EQ(provider_.calls, 2);
    EXPECT_EQ(dispatches, 2) << "each call went through the trampoline";
    EXPECT_EQ(context(), &guard_) << "the consumer holds the guard, not the provider";
}

TEST_F(DirectCall, TwelveArgumentWordsArriveInOrder) {
    for (uint64_t base : {1ull, 1000ull, ~0ull / 100}) {
        uint64_t expected = 0;
        for (uint64_t word = 0; word < 11; ++word) expected += (base + word) * (word + 1);
        EXPECT_EQ(vtable().weigh(context(), base, base + 1, base + 2, base + 3, base + 4, base + 5,
                                 base + 6, base + 7, base + 8, base + 9, base + 10),
                  expected);
    }
}

TEST_F(DirectCall, AFaultAnswersEioOrZeroAndTheCallerGoesOn) {
    for (int round = 0; round < 100; ++round) {
        EXPECT_EQ(vtable().crash_status(context(), 3), 5);  // EIO
        EXPECT_EQ(vtable().crash_value(context()), 0u);
        uint64_t quotient = 0;
        ASSERT_EQ(vtable().divide(context(), 10, 2, &quotient), 0);
        ASSERT_EQ(quotient, 5u);
    }
    EXPECT_EQ(faults, 200);
}

TEST_F(DirectCall, TheHeaderIsTheProvidersAndASlotPastItIsEnosys) {
    bind(kVersion1);
    EXPECT_EQ(vtable().header.version, 1u);
    EXPECT_EQ(vtable().header.vtable_size, sizeof(FakeVtable) - 2 * sizeof(void*));
    // A consumer that ignored the header: the provider's vtable has no slots 2 and 3. Through
    // the trampoline, the status slot answers ENOSYS and the value slot zero.
    const auto& all_slots = reinterpret_cast<const FakeVtable&>(guard_.vtable);
    EXPECT_EQ(all_slots.crash_status(context(), 3), 38);  // ENOSYS
    EXPECT_EQ(all_slots.crash_value(context()), 0u);
    EXPECT_EQ(dispatches, 2);
    EXPECT_EQ(faults, 0);
    EXPECT_EQ(provider_.calls, 0);
}

TEST_F(DirectCall, AnEmptyProviderSlotAnswersEnoent) {
    provider_slot_.record = nullptr;
    uint64_t quotient = 0;
    EXPECT_EQ(vtable().divide(context(), 4, 2, &quotient), 2);  // ENOENT
    EXPECT_EQ(vtable().weigh(context(), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 0u);
    EXPECT_EQ(provider_.calls, 0);
}

TEST_F(DirectCall, FailureAnswersFollowTheResultsTable) {
    EXPECT_EQ(direct_failure("sv", 0, Errno::IoError), 5u);
    EXPECT_EQ(direct_failure("sv", 1, Errno::IoError), 0u);
    EXPECT_EQ(direct_failure("sv", 2, Errno::IoError), 0u) << "past the table: a value";
    EXPECT_EQ(direct_failure(nullptr, 0, Errno::IoError), 0u);
}

}  // namespace
}  // namespace umka::containment
