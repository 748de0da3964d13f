// Whether module code runs in memory domains (see memory_domain.h).
#include "nucleus/containment/memory_domain.h"

#include "nucleus/bundle/bundle_inventory.h"
#include "nucleus/lib/log.h"

namespace umka::containment {

namespace {

constinit DomainSupport support = DomainSupport::NoPks;

bool same_text(const bundle::TextSpan& text, const char* word) {
    size_t length = __builtin_strlen(word);
    return text.length == length && __builtin_memcmp(text.text, word, length) == 0;
}

}  // namespace

const char* domain_support_text(DomainSupport value) {
    switch (value) {
    case DomainSupport::On:
        return "on";
    case DomainSupport::NoPks:
        return "the CPU has no PKS (supervisor protection keys)";
    case DomainSupport::TurnedOff:
        return "turned off by the boot manifest (param containment.domains=off)";
    }
    return "?";
}

void configure_domains(const bundle::Inventory& inventory) {
    const bundle::TextSpan* setting = inventory.parameter("containment.domains");
    if (setting != nullptr && !same_text(*setting, "off") && !same_text(*setting, "on")) {
        log("containment: param containment.domains=%.*s refused: not on or off; the default "
            "stays\n",
            int(setting->length), setting->text);
        setting = nullptr;
    }
    if (!arch::memory_domains_enabled()) {
        support = DomainSupport::NoPks;
    } else if (setting != nullptr && same_text(*setting, "off")) {
        support = DomainSupport::TurnedOff;
    } else {
        support = DomainSupport::On;
    }
    domain_switching = support == DomainSupport::On;
    if (domain_switching) {
        log("containment: memory domains on: module code on a guarded path runs with the "
            "nucleus's data write-disabled (PKS key %u)\n",
            unsigned(arch::kNucleusDataKey));
    } else {
        log("containment: no memory domains: %s; module code can write the nucleus's memory\n",
            domain_support_text(support));
    }
}

DomainSupport domain_support() {
    return support;
}

}  // namespace umka::containment
