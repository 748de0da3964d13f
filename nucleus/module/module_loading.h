// The one sequence that turns a bundle file into a bound module instance, used by boot
// (nucleus/loader/boot_modules.cpp), by live evolution (nucleus/evolution/module_swap.cpp)
// and next by the crash restart:
//
//   load_image:  Find      the file in the bundle inventory (read once at boot)
//                Signature its Ed25519 trailer, before any byte of the ELF is interpreted
//                Image     ELF and manifest validated, segments mapped and protected
//   bind_image:  StateRegions  one zeroed region per manifest `state`
//                BindingBlock  the nucleus-owned block the module is bound through
//                Bind          requires resolved, entry called, provides checked (published
//                              or withheld)
//
// Boot resolves dependencies between the two halves, evolution checks the replacement
// rule there. Starting the module stays separate (start_module). Every failure undoes all
// the sequence did before it: nothing stays mapped, allocated or registered, and the
// progress says which step refused. Everything that touches memory or the module tables
// goes through LoadEnvironment, so host tests inject a failure at every step.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/bundle/bundle_inventory.h"
#include "nucleus/crypto/ed25519.h"
#include "nucleus/crypto/module_signature.h"
#include "nucleus/lib/status.h"
#include "nucleus/module/capability_table.h"
#include "nucleus/module/diagnostic.h"
#include "nucleus/module/elf_module.h"
#include "nucleus/module/module_binder.h"
#include "nucleus/module/service_registry.h"

namespace umka::modules {

enum class LoadStep : uint8_t { Find, Signature, Image, StateRegions, BindingBlock, Bind, Done };
const char* load_step_name(LoadStep step);

// The host's side: memory and the module tables. The nucleus's is loader::kernel_loading().
class LoadEnvironment {
public:
    // Zeroed, 16-byte aligned memory for state regions and binding blocks; freed with
    // free_zeroed (nullptr ignored).
    virtual Result<void*> allocate_zeroed(size_t bytes) = 0;
    virtual void free_zeroed(void* memory) = 0;
    virtual const ModuleMemory& image_memory() = 0;
    virtual ServiceRegistry& registry() = 0;
    virtual CapabilityTable& capabilities() = 0;
    // Held around every change of the registry and capability table (after boot other
    // CPUs write them too). Must be recursive: a module's entry may allocate module memory.
    virtual void lock_tables() = 0;
    virtual void unlock_tables() = 0;
    virtual uint64_t read_cycles() = 0;

protected:
    ~LoadEnvironment() = default;
};

struct LoadProgress {
    LoadStep step = LoadStep::Find;  // the step that refused, or Done
    uint64_t verify_cycles = 0;      // finding the file and checking its signature
    uint64_t load_cycles = 0;        // every step so far, the signature included
    uint64_t file_size = 0;          // once found
};

// The outcome of checking one file's signature. load_image checks it itself, or takes one
// checked ahead (at boot every CPU checks files at once: loader/boot_modules.cpp) when it
// is for the very bytes and key load_image is about to use.
struct SignatureCheck {
    const uint8_t* file = nullptr;
    size_t size = 0;
    const uint8_t* public_key = nullptr;
    crypto::SignedModuleView view{};
    Errno error = Errno::Ok;  // Ok: the signature verifies
    const char* reason = nullptr;
    uint64_t cycles = 0;

    bool is_for(const uint8_t* other_file, size_t other_size, const uint8_t* key) const {
        return file != nullptr && file == other_file && size == other_size && public_key == key;
    }
};

// Pure and reentrant: safe on any CPU at once (it only reads the file and the key).
SignatureCheck check_signature(const uint8_t* file, size_t size, const uint8_t* public_key,
                               uint64_t (*read_cycles)());

struct ImageRequest {
    const bundle::Inventory* inventory;
    const char* file;  // a whole entry name (names are never cut: module_record copies them)
    const uint8_t* public_key;  // crypto::kEd25519PublicKeySize bytes
    const SignatureCheck* checked = nullptr;  // optional: see SignatureCheck
};

// Find, Signature, Image. On an error nothing is mapped; the reason is the check's own
// (callers add the file name as they report it).
Result<LoadedModule> load_image(LoadEnvironment& environment, const ImageRequest& request,
                                LoadProgress& progress, Diagnostic& diagnostic);

struct BindOptions {
    // Per `requires` entry, the provider to bind to (BindRequest::providers); nullptr: any.
    const char* const* providers = nullptr;
    uint32_t owner = 0;
    Publication publication = Publication::Publish;
    // Live evolution: the running instance's manifest. A state it has too (same name) is
    // handed to the entry marked carried (its content arrives at the commit); others fresh.
    const ManifestView* predecessor = nullptr;
};

// StateRegions, BindingBlock, Bind. On success `block` is the bound block (its states[]
// hold the regions). On an error nothing stays allocated or registered and `block` is null.
Status bind_image(LoadEnvironment& environment, const LoadedModule& image,
                  const BindOptions& options, ModuleBindingBlock*& block, LoadProgress& progress,
                  Diagnostic& diagnostic);

// Unbinds under the table lock (unbind_module). Errno::Busy while a consumer is bound.
Status unbind_instance(LoadEnvironment& environment, ModuleBindingBlock& block,
                       const char* module_name, Diagnostic& diagnostic);

// Frees a block that is no longer bound (unbound, or never bound) and its `state_count`
// regions; `block` becomes null. The image's manifest gives the count: call before
// unload_image.
void free_binding(LoadEnvironment& environment, ModuleBindingBlock*& block, size_t state_count);

// Unmaps an image nothing can run any more.
void unload_image(LoadEnvironment& environment, const LoadedModule& image);

}  // namespace umka::modules
