#include "nucleus/evolution/replacement_check.h"

namespace umka::evolution {

Status check_replacement(const modules::ManifestView& current,
                         const modules::ManifestView& replacement,
                         const UmkaServiceSlot* const* published,
                         const modules::ServiceRegistry& registry,
                         modules::Diagnostic& diagnostic) {
    if (replacement.provided_count() != current.provided_count()) {
        return modules::refuse(diagnostic, Errno::InvalidArgument,
                               "'%s' provides %zu interface(s), the running '%s' %zu: a "
                               "replacement provides exactly what it replaces",
                               replacement.name(), replacement.provided_count(), current.name(),
                               current.provided_count());
    }
    for (size_t index = 0; index < current.provided_count(); ++index) {
        modules::InterfaceEntry running = current.provided(index);
        size_t found = replacement.find_provided(running.package, running.name);
        if (found == modules::ManifestView::kNotFound) {
            return modules::refuse(diagnostic, Errno::InvalidArgument,
                                   "'%s' does not provide %s.%s, which the running '%s' does",
                                   replacement.name(), running.package, running.name,
                                   current.name());
        }
        modules::InterfaceEntry offered = replacement.provided(found);
        const modules::ServiceEntry* entry =
            published != nullptr ? registry.entry_of(published[index]) : nullptr;
        uint32_t needed = entry != nullptr ? entry->required_minimum : 0;
        if (offered.version < needed) {
            return modules::refuse(diagnostic, Errno::InvalidArgument,
                                   "'%s' provides %s.%s version %u but its consumers need >= %u",
                                   replacement.name(), running.package, running.name,
                                   offered.version, needed);
        }
    }
    return Status::ok();
}

Status check_downgrade(uint32_t running_version, uint32_t replacement_version,
                       DowngradePolicy policy, modules::Diagnostic& diagnostic) {
    if (replacement_version >= running_version || policy == DowngradePolicy::Allow) {
        return Status::ok();
    }
    return modules::refuse(diagnostic, Errno::NotPermitted,
                           "module version %u is below the running version %u: a downgrade "
                           "needs --allow-downgrade",
                           replacement_version, running_version);
}

}  // namespace umka::evolution
