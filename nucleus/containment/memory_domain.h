// Memory domains (docs/crash-containment.md, "Memory domains"). While the nucleus runs a
// module's code on a guarded path (a ring request, a swap's start, an interrupt handler;
// not a module thread's body), the CPU is in the module's domain: the nucleus image's writable
// memory is write-disabled (arch/memory_domain.h: PKS on x86-64). A write there from the
// module's code faults, and the fault is contained like any other: the isolation
// violation. Every nucleus service the module calls leaves the domain for the length of
// the call (nucleus_entry.h).
#pragma once

#include <stdint.h>

#include "nucleus/containment/nucleus_entry.h"

namespace umka::bundle {
struct Inventory;
}  // namespace umka::bundle

namespace umka::containment {

enum class DomainSupport : uint8_t {
    On,         // module code runs in memory domains
    NoPks,      // the CPU has no supervisor protection keys
    TurnedOff,  // the boot manifest says `param containment.domains=off`
};
const char* domain_support_text(DomainSupport support);

// At boot, before any module code runs on a guarded path: On when the CPU has PKS and the
// boot manifest does not turn them off (`param containment.domains=off`, for measuring
// their cost). Logs which, and why not.
void configure_domains(const bundle::Inventory& inventory);

// An on/off `param` of the boot manifest: Absent when not given, and when its value is
// neither (refused in the log, naming the key and the value).
enum class Switch : uint8_t { Absent, On, Off };
Switch read_switch(const bundle::Inventory& inventory, const char* key);
DomainSupport domain_support();

// The scope in which the nucleus runs a module's code on a guarded path. Entered from
// nucleus code only, which always holds the nucleus's rights (nucleus_entry.h), so the
// exit gives them back without reading the register.
class ModuleDomain {
public:
    // `enter` false: the scope changes nothing (a path that runs without a domain).
    explicit ModuleDomain(bool enter = true) : entered_(enter && domain_switching) {
        if (entered_) arch::write_domain_rights(arch::kModuleRights);
    }
    ~ModuleDomain() {
        if (entered_) arch::write_domain_rights(arch::kNucleusRights);
    }
    ModuleDomain(const ModuleDomain&) = delete;
    ModuleDomain& operator=(const ModuleDomain&) = delete;

private:
    bool entered_;
};

}  // namespace umka::containment
