// The nucleus's side of memory domains (docs/crash-containment.md, "Memory domains"):
// every KABI slot the nucleus provides opens with a NucleusEntry, which gives the CPU the
// nucleus's rights for the length of the call and then the caller's back. A module's code
// runs with the nucleus's data write-disabled; its calls into the nucleus (a log line, a
// lock, a wait queue) write that data, so each one leaves the module's domain here.
//
// Force-included into every nucleus and arch source (arch/x86_64/CMakeLists.txt), where it
// defines UMKA_KABI_PROVIDER_ENTRY for the generated make_<name>_vtable() functions.
#pragma once

#include <arch/memory_domain.h>

namespace umka::containment {

// Whether module code runs in memory domains (set once at boot: configure_domains()). Read
// on every nucleus entry, in every domain: the nucleus's data stays readable.
extern constinit bool domain_switching;

// The caller's rights, after switching to the nucleus's when they differ; and back to them.
// Out of line (memory_domain.cpp), so that each of the nucleus's many slots carries only
// the tests.
arch::DomainRights enter_nucleus();
void leave_nucleus(arch::DomainRights caller);

class NucleusEntry {
public:
    NucleusEntry() {
        if (__builtin_expect(domain_switching, false)) caller_ = enter_nucleus();
    }
    ~NucleusEntry() {
        if (__builtin_expect(caller_ != arch::kNucleusRights, false)) leave_nucleus(caller_);
    }
    NucleusEntry(const NucleusEntry&) = delete;
    NucleusEntry& operator=(const NucleusEntry&) = delete;

private:
    arch::DomainRights caller_ = arch::kNucleusRights;
};

}  // namespace umka::containment

#define UMKA_KABI_PROVIDER_ENTRY ::umka::containment::NucleusEntry umka_nucleus_entry;
