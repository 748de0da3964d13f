// The memory-domain switch protocol (nucleus/containment/nucleus_entry.h, memory_domain.h)
// over a fake IA32_PKRS: the nucleus enters a module's domain around its code, and every
// slot of a vtable the nucleus makes leaves it for the length of the call — through the
// very thunk kabi-gen generates (make_log_vtable), with the nucleus's hook defined first.
#include "nucleus/containment/memory_domain.h"

#include <gtest/gtest.h>

#include <vector>

#include "nucleus/containment/nucleus_entry.h"  // defines UMKA_KABI_PROVIDER_ENTRY first
#include "umka/kabi/kernel_services.hpp"

namespace umka {
namespace {

// The register, and every write to it in order.
arch::DomainRights rights = arch::kNucleusRights;
std::vector<arch::DomainRights> writes;
int reads = 0;

}  // namespace

namespace arch {
DomainRights read_domain_rights() {
    ++reads;
    return rights;
}
void write_domain_rights(DomainRights value) {
    rights = value;
    writes.push_back(value);
}
}  // namespace arch

namespace {

namespace api = umka::kabi::kernel_services;

// What the nucleus's Log.level saw: the rights in force while it ran.
arch::DomainRights seen = 0xffff;

struct FakeLog {
    static void write(void*, api::LogLevel, const char*, uint64_t) {}
    static api::LogLevel level(void*) {
        seen = rights;
        return api::LogLevel::Info;
    }
};
constexpr api::LogVtable kLog = api::make_log_vtable<FakeLog>();

class MemoryDomain : public ::testing::Test {
protected:
    void SetUp() override {
        rights = arch::kNucleusRights;
        writes.clear();
        reads = 0;
        seen = 0xffff;
        containment::domain_switching = true;
    }
};

TEST_F(MemoryDomain, ModuleCodeRunsWithTheNucleusDataWriteDisabled) {
    {
        containment::ModuleDomain domain;
        EXPECT_EQ(rights, arch::kModuleRights);
        EXPECT_EQ(rights, 1u << 3) << "write-disable for key 1 only: the nucleus stays readable";
    }
    EXPECT_EQ(rights, arch::kNucleusRights);
    EXPECT_EQ(writes, (std::vector<arch::DomainRights>{arch::kModuleRights, arch::kNucleusRights}));
}

TEST_F(MemoryDomain, ACallIntoTheNucleusLeavesTheDomainAndComesBack) {
    containment::ModuleDomain domain;
    // The module's code calls the nucleus through the generated slot.
    EXPECT_EQ(kLog.level(nullptr), api::LogLevel::Info);
    EXPECT_EQ(seen, arch::kNucleusRights) << "the nucleus ran with all rights";
    EXPECT_EQ(rights, arch::kModuleRights) << "and the module got its own back";
    EXPECT_EQ(writes, (std::vector<arch::DomainRights>{arch::kModuleRights, arch::kNucleusRights,
                                                       arch::kModuleRights}));
}

TEST_F(MemoryDomain, ACallFromTheNucleusItselfReadsButNeverWrites) {
    EXPECT_EQ(kLog.level(nullptr), api::LogLevel::Info);
    EXPECT_EQ(seen, arch::kNucleusRights);
    EXPECT_EQ(reads, 1);
    EXPECT_TRUE(writes.empty()) << "all rights were in force already";
}

TEST_F(MemoryDomain, NestedDomainsUnwindInOrder) {
    // Module code calls the nucleus, which runs another module's code (a swap's start from
    // an `evolve` the first module asked for), which calls the nucleus again.
    containment::ModuleDomain outer;
    {
        containment::NucleusEntry entry;
        EXPECT_EQ(rights, arch::kNucleusRights);
        {
            containment::ModuleDomain inner;
            EXPECT_EQ(kLog.level(nullptr), api::LogLevel::Info);
            EXPECT_EQ(seen, arch::kNucleusRights);
            EXPECT_EQ(rights, arch::kModuleRights);
        }
        EXPECT_EQ(rights, arch::kNucleusRights) << "back in the nucleus call";
    }
    EXPECT_EQ(rights, arch::kModuleRights) << "back in the outer module's code";
}

TEST_F(MemoryDomain, WithoutDomainsNothingTouchesTheRegister) {
    containment::domain_switching = false;
    {
        containment::ModuleDomain domain;
        EXPECT_EQ(kLog.level(nullptr), api::LogLevel::Info);
    }
    EXPECT_EQ(reads, 0);
    EXPECT_TRUE(writes.empty());
}

}  // namespace
}  // namespace umka
