// The host harness: loads a module's real ELF file with the nucleus's own loader and binder
// (nucleus/module/), maps it with mmap/mprotect, binds its `requires` to host providers
// (a Log that records lines, a Clock the test moves, or any vtable a test publishes),
// calls umka_module_entry, and hands tests the module's provided vtables as generated Refs.
// journey 4 of DESIGN.md: the module tested here is the file that boots in QEMU.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "nucleus/module/capability_table.h"
#include "nucleus/module/elf_module.h"
#include "nucleus/module/module_binder.h"
#include "nucleus/module/service_registry.h"
#include "umka/kabi/kernel_services.hpp"
#include "umka/module_entry.h"

namespace umka::harness {

using modules::Diagnostic;

// The module file a umka_add_module_test test was built for (the environment variable
// UMKA_MODULE_UNDER_TEST overrides it). Static inline: the macro is defined for the test's
// own translation units, not for the harness library.
static inline const char* module_under_test() {
    if (const char* path = getenv("UMKA_MODULE_UNDER_TEST")) return path;
#ifdef UMKA_MODULE_UNDER_TEST
    return UMKA_MODULE_UNDER_TEST;
#else
    return "";
#endif
}

// Reads a whole file; false (and the reason in *error) when it cannot.
bool read_file(const std::string& path, std::vector<uint8_t>& contents, std::string* error);

// ModuleMemory over mmap/mprotect/munmap, with counters and fault injection for tests.
class MmapModuleMemory {
public:
    MmapModuleMemory();
    const modules::ModuleMemory& memory() const { return memory_; }

    size_t live_reservations() const { return live_reservations_; }
    size_t protect_calls() const { return protect_calls_; }
    void fail_next_reserve() { fail_next_reserve_ = true; }
    void fail_protect_after(size_t calls) { fail_protect_after_ = calls; }

private:
    static Result<void*> reserve(void* context, size_t bytes);
    static Status protect(void* context, void* start, size_t bytes, modules::SegmentAccess access);
    static void release(void* context, void* start, size_t bytes);

    modules::ModuleMemory memory_;
    size_t live_reservations_ = 0;
    size_t protect_calls_ = 0;
    bool fail_next_reserve_ = false;
    size_t fail_protect_after_ = SIZE_MAX;
};

// kernel_services.Log for modules under test: keeps every line.
class RecordingLog {
public:
    RecordingLog();
    const kabi::kernel_services::LogVtable* vtable() const { return &vtable_; }
    const std::vector<std::string>& lines() const { return lines_; }
    void clear() { lines_.clear(); }

private:
    kabi::kernel_services::LogVtable vtable_;
    std::vector<std::string> lines_;
};

// kernel_services.Clock whose time the test sets.
class ManualClock {
public:
    ManualClock();
    const kabi::kernel_services::ClockVtable* vtable() const { return &vtable_; }
    void set_ns(uint64_t now) { now_ns_ = now; }
    uint64_t now_ns() const { return now_ns_; }

private:
    kabi::kernel_services::ClockVtable vtable_;
    uint64_t now_ns_ = 0;
};

// One module loaded and bound by the harness.
struct HostModule {
    std::string path;
    std::vector<uint8_t> file;
    modules::LoadedModule loaded{};
    std::unique_ptr<modules::ModuleBindingBlock> block;
    std::vector<std::shared_ptr<void>> state_memory;  // the module's state regions
    std::vector<UmkaStateRegion> states;
    uint32_t owner = 0;

    const modules::ManifestView& manifest() const { return loaded.manifest_view; }
    const char* name() const { return loaded.manifest_view.name(); }
};

struct LoadOptions {
    // Provider name per `requires` entry (empty: first publisher of each interface).
    std::vector<const char*> providers;
    // State regions to hand over instead of fresh zeroed ones (a swap carries them).
    std::vector<UmkaStateRegion> carried_states;
    std::vector<std::shared_ptr<void>> carried_memory;
    modules::Publication publication = modules::Publication::Publish;
};

class ModuleHarness {
public:
    // Publishes the host Log and Clock as the nucleus's kernel_services.Log/Clock v1.
    ModuleHarness(size_t capability_capacity = 256, size_t service_capacity = 64);
    ~ModuleHarness();
    ModuleHarness(const ModuleHarness&) = delete;
    ModuleHarness& operator=(const ModuleHarness&) = delete;

    // Publishes a host vtable as package.name from `provider`.
    Status provide(const char* package, const char* name, const umka_kabi_vtable_header* vtable,
                   void* context, const char* provider = modules::kNucleusProviderName);
    template <typename Vtable>
    Status provide(const char* package, const char* name, const Vtable* vtable, void* context,
                   const char* provider = modules::kNucleusProviderName) {
        return provide(package, name, reinterpret_cast<const umka_kabi_vtable_header*>(vtable),
                       context, provider);
    }

    // Reads, validates, loads, binds. nullptr on refusal, with the reason in last_reason()
    // and the errno in last_error(); nothing stays mapped or published then.
    HostModule* load(const std::string& path, const LoadOptions& options = {});
    // Unbinds and unmaps. Errno::Busy while another module is bound to it.
    Status unload(HostModule* module);

    // The module's start function (module_entry.h), as the nucleus calls it once the module
    // is committed. load() does it for a published module and evolve() after the swap; a
    // test that swaps by hand calls it after swap().
    Status start(HostModule* module);

    // Live swap of everything `current` provides to `replacement` (loaded Withheld); the
    // old records are retired at once (the host has no other CPU inside the old code
    // unless the test made one: call it only when such threads have stopped).
    Status swap(HostModule* current, HostModule* replacement);

    // The host rendition of the nucleus's evolve (docs/module-contract.md §5, state import):
    // loads `path` withheld on fresh zeroed state regions; for each of its states that
    // `current` has too (same schema name), calls the replacement's import function, first
    // as a dry run into scratch memory for every state, then committing into its regions
    // (without a function, only an identical schema version is taken over, as a copy);
    // then swaps everything `current` provides and unloads `current`. Returns the
    // replacement, or nullptr with the reason in last_reason() and, for a refused import,
    // the function's errno in last_error(); `current` then keeps serving, untouched.
    // `cause` is what the import is told (UMKA_STATE_IMPORT_CAUSE_CRASH: the nucleus's
    // restart of a crashed module, which hands the replacement what `current` held).
    HostModule* evolve(HostModule* current, const std::string& path,
                       uint32_t cause = UMKA_STATE_IMPORT_CAUSE_EVOLVE);

    // A generated consumer Ref (e.g. module_fixture::CounterRef) bound to what `module`
    // publishes as package.name — the same slot other modules call through.
    template <typename Ref>
    kabi::Status bind_provided(const HostModule& module, const char* package, const char* name,
                               Ref* out) const {
        Result<UmkaServiceSlot*> slot = registry_.find(package, name, module.name());
        if (slot.is_error()) return UMKA_KABI_ENOENT;
        return kabi::bind_service(slot.value(), out);
    }

    // The owner (HostModule::owner) the next load() will give its module: a device a start
    // function reaches (HostPortIo::grant_owner) can be granted before the load starts it.
    uint32_t next_owner() const { return next_owner_; }
    modules::ServiceRegistry& registry() { return registry_; }
    modules::CapabilityTable& capabilities() { return capabilities_; }
    MmapModuleMemory& memory() { return memory_; }
    RecordingLog& log() { return log_; }
    ManualClock& clock() { return clock_; }
    const std::string& last_reason() const { return last_reason_; }
    Errno last_error() const { return last_error_; }

    static constexpr size_t kNoState = ~size_t(0);

private:
    Errno fail(Errno error, const std::string& reason);
    // One pass of evolve's state import over every state with a predecessor.
    Status import_states(HostModule& current, HostModule& replacement, uint32_t mode,
                         uint32_t cause);

    std::vector<modules::CapabilityEntry> capability_entries_;
    std::vector<modules::ServiceEntry> service_entries_;
    std::vector<modules::ServiceRecordCell> record_cells_;
    std::vector<modules::ServiceBinding> binding_entries_;
    modules::CapabilityTable capabilities_;
    modules::ServiceRegistry registry_;
    MmapModuleMemory memory_;
    RecordingLog log_;
    ManualClock clock_;
    std::vector<std::unique_ptr<HostModule>> modules_;
    uint32_t next_owner_ = 1;
    std::string last_reason_;
    Errno last_error_ = Errno::Ok;
};

}  // namespace umka::harness
