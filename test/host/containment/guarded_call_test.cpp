// The x86-64 guarded call and fault resume (arch/x86_64/cpu/guarded_call.S, recovery.cpp)
// on the host: a real fault inside arch_guarded_call raises a signal, whose handler does
// what the nucleus's trap handler does (walk the frames up to the guarded call, then
// resume_from_fault) on the signal's saved registers. The call must return 1 with every
// register a call preserves intact, and the code after it must run normally.
#include <arch/recovery.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <ucontext.h>

#include <cstdint>
#include <vector>

#include "arch/x86_64/cpu/traps.h"
#include "signal_resume.h"

namespace umka::arch {
namespace {

// The innermost guarded call of the test thread, as a task's recovery point.
RecoveryContext* active = nullptr;
std::vector<uint64_t> walked;
bool walk_complete = false;
int reject_at = -1;  // the visitor refuses the address at this position (-1: none)
int faults = 0;

bool visit(void*, uint64_t address) {
    if (int(walked.size()) == reject_at) return false;
    walked.push_back(address);
    return true;
}

void on_fault(int, siginfo_t*, void* argument) {
    auto* context = static_cast<ucontext_t*>(argument);
    greg_t* registers = context->uc_mcontext.gregs;
    ++faults;
    walked.clear();
    walk_complete = walk_frames_to(uint64_t(registers[REG_RBP]), uint64_t(registers[REG_RSP]),
                                   active->stack, visit, nullptr);
    resume_signal_context(*context, *active);
}

// The faults, in assembly so no sanitizer or optimiser stands in the way.
[[gnu::noinline]] void write_null(void*) {
    asm volatile("xor %%eax, %%eax\n\tmovq $0x5a, (%%rax)" ::: "rax", "memory");
}
// Like a function that saved the preserved registers, used them, and faulted before its
// epilogue put them back: only resume_from_fault can restore the caller's values.
[[gnu::noinline]] void clobber_then_fault(void*) {
    asm volatile(
        "mov $-1, %%rbx\n\tmov $-1, %%r12\n\tmov $-1, %%r13\n\tmov $-1, %%r14\n\t"
        "mov $-1, %%r15\n\txor %%eax, %%eax\n\tmovq $0x5a, (%%rax)" ::
            : "rax", "rbx", "r12", "r13", "r14", "r15", "memory");
}
[[gnu::noinline]] void invalid_opcode(void*) {
    asm volatile("ud2");
}
[[gnu::noinline]] void divide_by_zero(void*) {
    asm volatile("xor %%ecx, %%ecx\n\tmov $1, %%eax\n\txor %%edx, %%edx\n\tdiv %%rcx" ::
                     : "rax", "rcx", "rdx");
}
// Three frames deep before the fault: the walk must see two return addresses below the
// guarded call's own frame and the one in arch_guarded_call.
[[gnu::noinline]] void deep_leaf(int depth) {
    if (depth == 0)
        write_null(nullptr);
    else
        deep_leaf(depth - 1);
    asm volatile("" ::: "memory");  // not a tail call
}
[[gnu::noinline]] void deep(void*) {
    deep_leaf(1);
    asm volatile("" ::: "memory");
}
[[gnu::noinline]] void add_one(void* argument) {
    ++*static_cast<int*>(argument);
}

uint64_t guarded(void (*function)(void*), void* argument) {
    RecoveryContext context{};
    RecoveryContext* outer = active;
    active = &context;
    uint64_t result = arch_guarded_call(&context, function, argument);
    active = outer;
    return result;
}

// Registers a call preserves hold these across arch_guarded_call itself, called straight
// from assembly (a C++ caller would restore its own from its frame and hide a loss): set
// before the call, summed after it.
RecoveryContext assembly_context;

uint64_t with_values_in_preserved_registers(void (*function)(void*)) {
    assembly_context = RecoveryContext{};
    RecoveryContext* context = &assembly_context;
    active = context;
    uint64_t sum;
    asm volatile(
        "push %%rbp\n\tmov %%rsp, %%rbp\n\tand $-16, %%rsp\n\t"
        "push %%rbx\n\tpush %%r12\n\tpush %%r13\n\tpush %%r14\n\tpush %%r15\n\t"
        "sub $8, %%rsp\n\t"
        "mov $11, %%rbx\n\tmov $13, %%r12\n\tmov $17, %%r13\n\tmov $19, %%r14\n\t"
        "mov $23, %%r15\n\txor %%edx, %%edx\n\t"
        "call arch_guarded_call\n\t"
        "mov %%rbx, %%rax\n\tadd %%r12, %%rax\n\tadd %%r13, %%rax\n\tadd %%r14, %%rax\n\t"
        "add %%r15, %%rax\n\t"
        "add $8, %%rsp\n\t"
        "pop %%r15\n\tpop %%r14\n\tpop %%r13\n\tpop %%r12\n\tpop %%rbx\n\t"
        "mov %%rbp, %%rsp\n\tpop %%rbp"
        : "=a"(sum), "+D"(context), "+S"(function)
        :
        : "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc");
    active = nullptr;
    return sum;
}

class GuardedCall : public ::testing::Test {
protected:
    static constexpr int kSignals[] = {SIGSEGV, SIGILL, SIGFPE};
    void SetUp() override {
        ASSERT_TRUE(install_fault_handlers(on_fault, kSignals, saved_));
        faults = 0;
        reject_at = -1;
    }
    void TearDown() override { restore_fault_handlers(kSignals, saved_); }
    struct sigaction saved_[NSIG] {};
};

TEST_F(GuardedCall, ACallThatReturnsReturnsZero) {
    int value = 41;
    EXPECT_EQ(guarded(add_one, &value), 0u);
    EXPECT_EQ(value, 42);
    EXPECT_EQ(faults, 0);
}

TEST_F(GuardedCall, EachFaultReturnsOneAndTheCallerGoesOn) {
    EXPECT_EQ(guarded(write_null, nullptr), 1u);
    EXPECT_EQ(guarded(invalid_opcode, nullptr), 1u);
    EXPECT_EQ(guarded(divide_by_zero, nullptr), 1u);
    EXPECT_EQ(faults, 3);
    int value = 0;
    for (int round = 0; round < 1000; ++round) {
        ASSERT_EQ(guarded(round % 2 == 0 ? write_null : add_one, &value), round % 2 == 0 ? 1u : 0u);
    }
    EXPECT_EQ(value, 500);
}

TEST_F(GuardedCall, PreservedRegistersSurviveTheFault) {
    EXPECT_EQ(with_values_in_preserved_registers(clobber_then_fault), 11u + 13 + 17 + 19 + 23);
    EXPECT_EQ(with_values_in_preserved_registers(invalid_opcode), 11u + 13 + 17 + 19 + 23);
    EXPECT_EQ(faults, 2);
}

TEST_F(GuardedCall, TheWalkSeesEveryFrameUpToTheGuardedCall) {
    EXPECT_EQ(guarded(deep, nullptr), 1u);
    EXPECT_TRUE(walk_complete);
    // write_null's caller deep_leaf(0), deep_leaf(1), deep, arch_guarded_call's own frame.
    EXPECT_EQ(walked.size(), 4u);
    reject_at = 1;
    EXPECT_EQ(guarded(deep, nullptr), 1u);
    EXPECT_FALSE(walk_complete);
    EXPECT_EQ(walked.size(), 1u);
}

TEST_F(GuardedCall, AnInnerFaultReturnsFromTheInnerCallOnly) {
    struct Nested {
        uint64_t inner = 99;
        int after = 0;
    } nested;
    auto outer = [](void* argument) {
        auto* state = static_cast<Nested*>(argument);
        state->inner = guarded(invalid_opcode, nullptr);
        ++state->after;
    };
    EXPECT_EQ(guarded(outer, &nested), 0u);
    EXPECT_EQ(nested.inner, 1u);
    EXPECT_EQ(nested.after, 1);
}

}  // namespace
}  // namespace umka::arch
