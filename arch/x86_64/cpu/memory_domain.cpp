// Supervisor protection keys (Intel SDM Vol. 3A, 4.6.2: CR4.PKS, IA32_PKRS) behind
// arch/memory_domain.h.
#include <arch/memory_domain.h>

#include <atomic>

#include "arch/x86_64/cpu/x86.h"

namespace umka::arch {
namespace {

constexpr uint32_t kMsrPkrs = 0x6e1;
constexpr uint64_t kCr4Pks = 1ull << 24;
constexpr uint32_t kCpuidPksBit = 1u << 31;

// Set once by the first CPU that enables them; every CPU of a machine has the same CPUID.
constinit std::atomic<bool> enabled{false};

}  // namespace

bool memory_domains_supported() {
    if (x86::cpuid(0).eax < 7) return false;
    return (x86::cpuid(7, 0).ecx & kCpuidPksBit) != 0;
}

void enable_memory_domains() {
    uint64_t cr4;
    asm volatile("mov %%cr4, %0" : "=r"(cr4));
    x86::write_msr(kMsrPkrs, kNucleusRights);
    asm volatile("mov %0, %%cr4" ::"r"(cr4 | kCr4Pks) : "memory");
    enabled.store(true, std::memory_order_release);
}

bool memory_domains_enabled() {
    return enabled.load(std::memory_order_relaxed);
}

DomainRights read_domain_rights() {
    return DomainRights(x86::read_msr(kMsrPkrs));
}

void write_domain_rights(DomainRights rights) {
    x86::write_msr(kMsrPkrs, rights);
}

}  // namespace umka::arch
