// The out-of-line half of NucleusEntry (see nucleus_entry.h). Pure over arch's rights
// register, so the host test links this very file against a fake register.
#include "nucleus/containment/nucleus_entry.h"

namespace umka::containment {

constinit bool domain_switching = false;

arch::DomainRights enter_nucleus() {
    arch::DomainRights caller = arch::read_domain_rights();
    if (caller != arch::kNucleusRights) arch::write_domain_rights(arch::kNucleusRights);
    return caller;
}

void leave_nucleus(arch::DomainRights caller) {
    arch::write_domain_rights(caller);
}

}  // namespace umka::containment
