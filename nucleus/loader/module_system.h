// The nucleus's module system at run time: the capability table, the service registry, and
// one record per module the boot manifest asked for. Boot loading (boot_modules.cpp), the
// nucleus's own services (nucleus_services.cpp) and the console commands (mods, services,
// caps) all work on this one instance.
//
// Lock discipline: modules are loaded and bound on the boot CPU during bring-up, before any
// module code runs; afterwards the registry and capability table are only read (lock-free by
// design). The live-swap issue adds the writer lock.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/bundle/boot_manifest.h"
#include "nucleus/bundle/bundle_inventory.h"
#include "nucleus/console/text_output.h"
#include "nucleus/lib/recursive_spinlock.h"
#include "nucleus/lib/status.h"
#include "nucleus/module/capability_table.h"
#include "nucleus/module/elf_module.h"
#include "nucleus/module/module_binder.h"
#include "nucleus/module/module_loading.h"
#include "nucleus/module/service_registry.h"

namespace umka::loader {

enum class SignatureState : uint8_t { NotChecked, Verified, Refused };
// Replaced: a live swap put another instance in its place; its record is reused once the
// old image is unloaded.
enum class ModuleState : uint8_t { Requested, Loaded, Refused, Replaced };

const char* signature_state_name(SignatureState state);

inline constexpr size_t kReasonCapacity = 192;
inline constexpr size_t kFileNameCapacity = 64;

struct ModuleRecord {
    char file[kFileNameCapacity];  // the bundle entry
    uint8_t tier;
    bundle::Transport transport;
    bundle::Criticality criticality;
    uint16_t port_base;
    uint16_t port_count;
    bundle::ConfigurationSpace configuration_space;  // `ecam`: Mmio windows of the MCFG
    uint8_t legacy_irq;  // `irq=N`: the ISA IRQ it may attach; bundle::kNoIsaIrq when none
    SignatureState signature;
    ModuleState state;
    char reason[kReasonCapacity];  // why it was refused (empty when loaded)
    modules::LoadedModule image;   // valid once the ELF loaded
    bool image_loaded;
    modules::ModuleBindingBlock* binding;  // nucleus frames, valid once bound
    uint32_t owner;                        // capability owner / consumer id
    // A replacement's predecessor's owner id, from its evolution's pause until resume has
    // moved the predecessor's memory regions to `owner` (0: none; 0 is never a module's):
    // the pause only stores this instead of walking the capability table.
    uint32_t inherited_owner;
    uint64_t load_cycles;    // signature check + ELF load + bind
    uint64_t verify_cycles;  // the signature check alone
    uint64_t file_size;
    uint32_t load_order;  // 1, 2, ... in the order boot bound the modules; 0 otherwise
    Errno start_error;    // what the module's start returned (reason in `reason`)
};

class ModuleSystem {
public:
    // Sizes every table for `module_count` requested modules (capacity from the bundle).
    Status initialize(size_t module_count);

    modules::CapabilityTable& capabilities() { return *capabilities_; }
    modules::ServiceRegistry& registry() { return *registry_; }

    ModuleRecord* add_record();
    // For a live swap's replacement: a record never used, or one whose instance was
    // replaced and unloaded (cleared, its owner id kept). nullptr when none is left.
    ModuleRecord* take_spare_record();
    size_t record_count() const { return record_count_; }
    ModuleRecord& record(size_t index) { return records_[index]; }
    // The module whose capabilities `owner` holds; nullptr for the nucleus or unknown.
    ModuleRecord* record_of_owner(uint32_t owner);
    // The loaded module whose image contains `address` (for attributing calls and faults).
    ModuleRecord* record_containing(const void* address);
    // The loaded instance of the module named `name`; nullptr when none is loaded.
    ModuleRecord* loaded_named(const char* name);

    bool initialized() const { return records_ != nullptr; }

    // The boot bundle, read once (read_bundle) and kept for the whole run so live
    // evolution can load any file in it.
    const bundle::Inventory& inventory() const { return inventory_; }
    void keep_inventory(const bundle::Inventory& inventory) { inventory_ = inventory; }

private:
    modules::CapabilityTable* capabilities_ = nullptr;
    modules::ServiceRegistry* registry_ = nullptr;
    ModuleRecord* records_ = nullptr;
    size_t record_capacity_ = 0;
    size_t record_count_ = 0;
    bundle::Inventory inventory_{};
};

// Spare module records beyond the boot manifest's: instances that exist only during a live
// swap (the replacement, bound beside the running module).
inline constexpr size_t kSpareModuleRecords = 4;

ModuleSystem& module_system();

// Serialises the capability table's writers after boot: kernel_services.ModuleMemory
// (every CPU) and live evolution (binding a replacement, unbinding the old instance).
// Recursive, because a module's entry point may allocate module memory while its bind
// holds it.
RecursiveSpinLock& capability_writer_lock();

// Memory for module images: reserved and protected through the kernel address space.
const modules::ModuleMemory& kernel_module_memory();

// The load-and-bind sequence's environment in the nucleus (modules/module_loading.h):
// allocate_zeroed frames, kernel_module_memory, this module system's tables under
// capability_writer_lock.
modules::LoadEnvironment& kernel_loading();

// Reads the boot bundle once into the module system's inventory (static storage for
// bundle::kMaximumBundleEntries entries and kMaximumModuleRequests requests) and returns it.
const bundle::Inventory& read_bundle(const uint8_t* bytes, size_t size);

// Nucleus frames for nucleus-owned module data (binding blocks, state regions), zeroed.
Result<void*> allocate_zeroed(size_t bytes);
// Gives back what allocate_zeroed returned (its frames; the size is known to the allocator).
// nullptr is ignored.
void free_zeroed(void* memory);

// The heap module for nucleus code (interrupts off around each call, per its contract).
bool heap_available();
Status heap_allocate(uint64_t size, uint64_t* address);
Status heap_free(uint64_t address);
// `alignment`: a power of two, 0 meaning the heap's 16.
Status heap_allocate_aligned(uint64_t size, uint64_t alignment, uint64_t* address);
// Frees `address` if the heap module allocated it (asked with usable_size first, so a
// foreign pointer is not reported as a bad free by the heap).
enum class HeapRelease : uint8_t { Freed, NotOwned, Refused };
HeapRelease heap_free_if_owned(uint64_t address, uint64_t* usable_size);
Status heap_usable_size(uint64_t address, uint64_t* size);

}  // namespace umka::loader
