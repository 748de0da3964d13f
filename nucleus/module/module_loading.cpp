#include "nucleus/module/module_loading.h"

#include "nucleus/crypto/module_signature.h"

namespace umka::modules {
namespace {

class TableLock {
public:
    explicit TableLock(LoadEnvironment& environment) : environment_(environment) {
        environment_.lock_tables();
    }
    ~TableLock() { environment_.unlock_tables(); }
    TableLock(const TableLock&) = delete;
    TableLock& operator=(const TableLock&) = delete;

private:
    LoadEnvironment& environment_;
};

bool has_state(const ManifestView& manifest, const char* name) {
    for (size_t index = 0; index < manifest.state_count(); ++index) {
        if (__builtin_strcmp(manifest.state(index).name, name) == 0) return true;
    }
    return false;
}

void free_states(LoadEnvironment& environment, const UmkaStateRegion* states, size_t count) {
    for (size_t index = 0; index < count; ++index) environment.free_zeroed(states[index].base);
}

}  // namespace

const char* load_step_name(LoadStep step) {
    switch (step) {
    case LoadStep::Find:
        return "find";
    case LoadStep::Signature:
        return "signature";
    case LoadStep::Image:
        return "image";
    case LoadStep::StateRegions:
        return "state regions";
    case LoadStep::BindingBlock:
        return "binding block";
    case LoadStep::Bind:
        return "bind";
    case LoadStep::Done:
        return "done";
    }
    return "?";
}

SignatureCheck check_signature(const uint8_t* file, size_t size, const uint8_t* public_key,
                               uint64_t (*read_cycles)()) {
    uint64_t start = read_cycles != nullptr ? read_cycles() : 0;
    SignatureCheck check{file, size, public_key};
    Status status = crypto::split_signed_module(file, size, check.view, &check.reason);
    if (status.is_ok()) {
        status = crypto::verify_module_signature(check.view, public_key, &check.reason);
    }
    if (status.is_error()) check.error = status.error();
    if (read_cycles != nullptr) check.cycles = read_cycles() - start;
    return check;
}

Result<LoadedModule> load_image(LoadEnvironment& environment, const ImageRequest& request,
                                LoadProgress& progress, Diagnostic& diagnostic) {
    uint64_t start = environment.read_cycles();
    progress.step = LoadStep::Find;
    const bundle::Entry* entry =
        request.inventory != nullptr ? request.inventory->find(request.file) : nullptr;
    if (entry == nullptr) {
        return refuse(diagnostic, Errno::NotFound, "'%s' is not a file of the boot bundle",
                      request.file);
    }
    progress.file_size = entry->size;

    progress.step = LoadStep::Signature;
    SignatureCheck check{};
    if (request.checked != nullptr &&
        request.checked->is_for(entry->data, entry->size, request.public_key)) {
        check = *request.checked;
        progress.verify_cycles = check.cycles;
    } else {
        check = check_signature(entry->data, entry->size, request.public_key, nullptr);
        progress.verify_cycles = environment.read_cycles() - start;
    }
    if (check.error != Errno::Ok) {
        return refuse(diagnostic, check.error, "%s",
                      check.reason != nullptr ? check.reason : errno_name(check.error));
    }

    progress.step = LoadStep::Image;
    uint64_t image_start = environment.read_cycles();
    Result<LoadedModule> image = load_module(check.view.image, check.view.image_size,
                                             environment.image_memory(), diagnostic);
    if (image.is_error()) return image.error();
    progress.load_cycles = progress.verify_cycles + (environment.read_cycles() - image_start);
    return image;
}

Status bind_image(LoadEnvironment& environment, const LoadedModule& image,
                  const BindOptions& options, ModuleBindingBlock*& block, LoadProgress& progress,
                  Diagnostic& diagnostic) {
    uint64_t start = environment.read_cycles();
    block = nullptr;
    const ManifestView& manifest = image.manifest_view;
    progress.step = LoadStep::StateRegions;
    size_t state_count = manifest.state_count();
    if (state_count > kMaximumBoundStates) {
        return refuse(diagnostic, Errno::NoSpace, "'%s' has %zu state regions (at most %zu)",
                      manifest.name(), state_count, kMaximumBoundStates);
    }
    UmkaStateRegion states[kMaximumBoundStates] = {};
    for (size_t index = 0; index < state_count; ++index) {
        StateEntry state = manifest.state(index);
        Result<void*> base = environment.allocate_zeroed(state.size);
        if (base.is_error()) {
            free_states(environment, states, index);
            return refuse(diagnostic, base.error(), "no memory for state '%s' of '%s' (%u bytes)",
                          state.name, manifest.name(), state.size);
        }
        bool carried =
            options.predecessor != nullptr && has_state(*options.predecessor, state.name);
        states[index] =
            UmkaStateRegion{base.value(), state.size, state.version,
                            carried ? UMKA_STATE_ORIGIN_CARRIED : UMKA_STATE_ORIGIN_FRESH};
    }

    progress.step = LoadStep::BindingBlock;
    Result<void*> memory = environment.allocate_zeroed(sizeof(ModuleBindingBlock));
    if (memory.is_error()) {
        free_states(environment, states, state_count);
        return refuse(diagnostic, memory.error(), "no memory for the binding of '%s'",
                      manifest.name());
    }
    auto* bound_block = static_cast<ModuleBindingBlock*>(memory.value());

    progress.step = LoadStep::Bind;
    BindRequest request{&image,      options.providers, states,
                        state_count, options.owner,     options.publication};
    Status bound = Status::ok();
    {
        TableLock lock(environment);
        bound = bind_module(request, *bound_block, environment.registry(),
                            environment.capabilities(), diagnostic);
    }
    if (bound.is_error()) {
        // bind_module undid its own part (published slots, bindings, capabilities).
        free_states(environment, states, state_count);
        environment.free_zeroed(bound_block);
        return bound;
    }
    block = bound_block;
    progress.step = LoadStep::Done;
    progress.load_cycles += environment.read_cycles() - start;
    return Status::ok();
}

Status unbind_instance(LoadEnvironment& environment, ModuleBindingBlock& block,
                       const char* module_name, Diagnostic& diagnostic) {
    TableLock lock(environment);
    return unbind_module(block, module_name, environment.registry(), environment.capabilities(),
                         diagnostic);
}

void free_binding(LoadEnvironment& environment, ModuleBindingBlock*& block, size_t state_count) {
    if (block == nullptr) return;
    free_states(environment, block->states,
                state_count < kMaximumBoundStates ? state_count : kMaximumBoundStates);
    environment.free_zeroed(block);
    block = nullptr;
}

void unload_image(LoadEnvironment& environment, const LoadedModule& image) {
    unload_module(image, environment.image_memory());
}

}  // namespace umka::modules
