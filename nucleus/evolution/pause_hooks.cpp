#include "nucleus/evolution/pause_hooks.h"

namespace umka::evolution {
namespace {

constinit const PauseHook* hooks[kMaximumPauseHooks] = {};
constinit size_t hook_count = 0;

bool same(const char* left, const char* right) {
    return __builtin_strcmp(left, right) == 0;
}

}  // namespace

Status register_pause_hook(const PauseHook& hook) {
    if (hook.package == nullptr || hook.interface == nullptr || hook.prepare == nullptr ||
        hook.dry_run == nullptr || hook.refresh == nullptr || hook.commit == nullptr ||
        hook.switch_over == nullptr || hook.finish == nullptr || hook.abandon == nullptr) {
        return Errno::InvalidArgument;
    }
    for (size_t index = 0; index < hook_count; ++index) {
        if (same(hooks[index]->package, hook.package) &&
            same(hooks[index]->interface, hook.interface)) {
            return Errno::Exists;
        }
    }
    if (hook_count == kMaximumPauseHooks) return Errno::NoSpace;
    hooks[hook_count++] = &hook;
    return Status::ok();
}

const PauseHook* pause_hook_for(const modules::ManifestView& manifest, size_t index) {
    modules::InterfaceEntry provided = manifest.provided(index);
    for (size_t hook = 0; hook < hook_count; ++hook) {
        if (same(hooks[hook]->package, provided.package) &&
            same(hooks[hook]->interface, provided.name)) {
            return hooks[hook];
        }
    }
    return nullptr;
}

void clear_pause_hooks() {
    for (const PauseHook*& hook : hooks) hook = nullptr;
    hook_count = 0;
}

}  // namespace umka::evolution
