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

Switch read_switch(const bundle::Inventory& inventory, const char* key) {
    const bundle::TextSpan* setting = inventory.parameter(key);
    if (setting == nullptr) return Switch::Absent;
    if (same_text(*setting, "on")) return Switch::On;
    if (same_text(*setting, "off")) return Switch::Off;
    log("containment: param %s=%.*s refused: not on or off; the default stays\n", key,
        int(setting->length), setting->text);
    return Switch::Absent;
}

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
    Switch setting = read_switch(inventory, "containment.domains");
    if (!arch::memory_domains_enabled()) {
        support = DomainSupport::NoPks;
    } else if (setting == Switch::Off) {
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
