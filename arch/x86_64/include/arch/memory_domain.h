// Memory domains as generic code sees them (nucleus/containment/memory_domain.h): while a
// module's code runs, the nucleus image's writable memory (its .data and .bss) is
// write-disabled. On x86-64 this is supervisor protection keys (PKS): every page of that
// memory carries key kNucleusDataKey, and the IA32_PKRS register says, per key, whether
// this CPU may read or write pages with it. Switching a domain is one register write.
#pragma once

#include <stdint.h>

namespace umka::arch {

// A value of IA32_PKRS: for key k, bit 2k disables access and bit 2k+1 disables writes.
using DomainRights = uint32_t;
// Everything allowed: the nucleus's own rights, and every CPU's at boot.
inline constexpr DomainRights kNucleusRights = 0;
// The key of the nucleus image's .data and .bss pages (the boot stack excepted: the
// console task runs on it).
inline constexpr uint8_t kNucleusDataKey = 1;
// A module's code: the nucleus's data readable (its service slots are read on every
// call), not writable.
inline constexpr DomainRights kModuleRights = DomainRights(1) << (2 * kNucleusDataKey + 1);

// Whether this CPU has PKS (CPUID.(EAX=7,ECX=0):ECX[31]).
bool memory_domains_supported();
// This CPU: CR4.PKS on, rights kNucleusRights. Called by every CPU as it comes up, when
// memory_domains_supported(); the keys in the page tables take effect from here.
void enable_memory_domains();
// Whether this CPU enabled them (after enable_memory_domains()).
bool memory_domains_enabled();
DomainRights read_domain_rights();
void write_domain_rights(DomainRights rights);

}  // namespace umka::arch
