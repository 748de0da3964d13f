#include "nucleus/containment/direct_guard.h"

namespace umka::containment {
namespace {

void copy_name(char* into, size_t capacity, const char* first, const char* second = nullptr) {
    size_t length = 0;
    for (const char* part : {first, second}) {
        if (part == nullptr) continue;
        if (part == second && length + 1 < capacity) into[length++] = '.';
        for (; *part != '\0' && length + 1 < capacity; ++part) into[length++] = *part;
    }
    into[length] = '\0';
}

}  // namespace

void initialize_guard(DirectGuard& guard, const UmkaServiceSlot* provider_slot,
                      const UmkaServiceRecord& provider, const char* results, const char* consumer,
                      const char* provider_name, const char* package, const char* interface) {
    // The consumer's generated Ref reads the header to decide which methods exist: the
    // provider's, so it asks for nothing the provider lacks (and no more slots than the
    // trampoline has).
    guard.vtable.header = *provider.vtable;
    constexpr uint32_t kMostBytes = sizeof(umka_kabi_vtable_header) + sizeof guard.vtable.slots;
    if (guard.vtable.header.vtable_size > kMostBytes) guard.vtable.header.vtable_size = kMostBytes;
    for (uint32_t index = 0; index < arch::kDirectEntries; ++index)
        guard.vtable.slots[index] = umka_direct_entries[index];
    guard.record = UmkaServiceRecord{&guard.vtable.header, &guard, provider.interface_version,
                                     UMKA_KABI_TRANSPORT_DIRECT};
    guard.slot.record = &guard.record;
    guard.provider_slot = provider_slot;
    guard.results = results;
    guard.state.store(GuardState::Serving, std::memory_order_relaxed);
    copy_name(guard.consumer, sizeof guard.consumer, consumer);
    copy_name(guard.provider, sizeof guard.provider, provider_name);
    copy_name(guard.interface, sizeof guard.interface, package, interface);
}

Result<DirectTarget> resolve_direct(const UmkaServiceRecord* record, uint64_t method) {
    if (record == nullptr || record->vtable == nullptr) return Errno::NotFound;
    uint32_t size = record->vtable->vtable_size;
    uint64_t slots = size < sizeof(umka_kabi_vtable_header)
                         ? 0
                         : (size - sizeof(umka_kabi_vtable_header)) / sizeof(void*);
    if (method >= slots) return Errno::NoFunction;
    const auto* functions = reinterpret_cast<const void* const*>(
        reinterpret_cast<const uint8_t*>(record->vtable) + sizeof(umka_kabi_vtable_header));
    if (functions[method] == nullptr) return Errno::NoFunction;
    return DirectTarget{functions[method], record->context};
}

uint64_t direct_failure(const char* results, uint64_t method, Errno error) {
    if (results == nullptr) return 0;
    for (uint64_t index = 0; results[index] != '\0'; ++index) {
        if (index == method) return results[index] == 's' ? uint64_t(uint32_t(error)) : 0;
    }
    return 0;
}

}  // namespace umka::containment
