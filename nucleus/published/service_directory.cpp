// service_directory.Directory: a module's lookup of every provider of an interface (the
// console service finds the modules' console_command.CommandSet providers this way), and of
// its own provision of one (the slot a consumer hands a provider that calls it back).
//
// The calling module is found from the return address into its image (the thunk inlines
// the caller's frame, as for kernel_services.Threads), and each lookup is recorded as one of
// its bindings: `services` shows it, a live replacement of the provider must keep serving
// the version asked for, and the provider's slot cannot be unpublished while the caller is
// loaded (the registry refuses with EBUSY), so the slot address handed out stays valid.
#include "umka/kabi/service_directory.hpp"

#include "nucleus/containment/containment.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/published/nucleus_services.h"

namespace umka::loader {
namespace {

namespace directory = umka::kabi::service_directory;

// A name from module memory, copied NUL-terminated; false when it is empty, too long for
// a registry name or not readable.
bool copy_name(const char* data, uint64_t length, char (&out)[modules::kServiceNameSize]) {
    if (length == 0 || length >= modules::kServiceNameSize) return false;
    if (!module_range_readable(reinterpret_cast<uint64_t>(data), length)) return false;
    __builtin_memcpy(out, data, length);
    out[length] = '\0';
    return true;
}

struct DirectoryService {
    [[gnu::always_inline]] static inline Status provider(void*, const char* package_data,
                                                         uint64_t package_length,
                                                         const char* interface_data,
                                                         uint64_t interface_length, uint32_t index,
                                                         uint32_t minimum_version, uint64_t* slot) {
        ModuleRecord* caller = module_system().record_containing(__builtin_return_address(0));
        if (caller == nullptr || caller->binding == nullptr) return Errno::NotPermitted;
        char package[modules::kServiceNameSize];
        char interface[modules::kServiceNameSize];
        if (slot == nullptr || !copy_name(package_data, package_length, package) ||
            !copy_name(interface_data, interface_length, interface)) {
            return Errno::InvalidArgument;
        }
        UmkaServiceSlot* found;
        {
            RecursiveSpinLockGuard guard(capability_writer_lock());
            modules::ServiceRegistry& registry = module_system().registry();
            found = TRY(registry.find_provider(package, interface, index, minimum_version));
            modules::Diagnostic diagnostic;
            TRY(registry.bind(caller->image.manifest_view.name(), caller->owner, found,
                              minimum_version, diagnostic));
        }
        // A tier-1 provider is called through the nucleus's trampoline (containment.h).
        *slot = reinterpret_cast<uint64_t>(containment::guarded_slot(
            caller->image.manifest_view.name(), package, interface, found));
        return Status::ok();
    }

    [[gnu::always_inline]] static inline Status own_provision(void*, const char* package_data,
                                                              uint64_t package_length,
                                                              const char* interface_data,
                                                              uint64_t interface_length,
                                                              uint64_t* slot) {
        ModuleRecord* caller = module_system().record_containing(__builtin_return_address(0));
        if (caller == nullptr || caller->binding == nullptr) return Errno::NotPermitted;
        char package[modules::kServiceNameSize];
        char interface[modules::kServiceNameSize];
        if (slot == nullptr || !copy_name(package_data, package_length, package) ||
            !copy_name(interface_data, interface_length, interface)) {
            return Errno::InvalidArgument;
        }
        RecursiveSpinLockGuard guard(capability_writer_lock());
        // Slots are published under the module's name, which its replacement keeps, so the
        // slot stays the same across a live swap of the caller.
        UmkaServiceSlot* found = TRY(module_system().registry().find(
            package, interface, caller->image.manifest_view.name()));
        *slot = reinterpret_cast<uint64_t>(found);
        return Status::ok();
    }
};

constexpr directory::DirectoryVtable kDirectoryVtable =
    directory::make_directory_vtable<DirectoryService>();

}  // namespace

Status publish_service_directory(modules::ServiceRegistry& registry,
                                 modules::Diagnostic& diagnostic) {
    return publish_vtable(registry, "service_directory", "Directory",
                          reinterpret_cast<const umka_kabi_vtable_header*>(&kDirectoryVtable),
                          kDirectoryVtable.version, diagnostic);
}

}  // namespace umka::loader
