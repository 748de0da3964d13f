// The host service_directory.Directory of module tests (host_directory.h).
#include "host_directory.h"

namespace umka::harness {

namespace directory = kabi::service_directory;

struct HostDirectory::Vtable {
    static kabi::Status provider(void* context, const char* package, uint64_t package_length,
                                 const char* interface, uint64_t interface_length, uint32_t index,
                                 uint32_t minimum_version, uint64_t* slot) {
        HostDirectory& self = *static_cast<HostDirectory*>(context);
        std::string wanted_package(package, package_length);
        std::string wanted_interface(interface, interface_length);
        std::string provider;  // empty: the first publisher
        {
            std::lock_guard<std::mutex> lock(self.mutex_);
            self.lookups_ += 1;
            auto listed = self.listed_.find({wanted_package, wanted_interface});
            if (listed != self.listed_.end()) {
                if (index >= listed->second.size()) return UMKA_KABI_ENOENT;
                provider = listed->second[index];
            } else if (index != 0) {
                return UMKA_KABI_ENOENT;
            }
        }
        auto found = self.harness_.registry().find(wanted_package.c_str(), wanted_interface.c_str(),
                                                   provider.empty() ? nullptr : provider.c_str());
        if (found.is_error()) return UMKA_KABI_ENOENT;
        if (found.value()->record->interface_version < minimum_version) return UMKA_KABI_ENOENT;
        *slot = reinterpret_cast<uint64_t>(found.value());
        return kabi::Status::ok();
    }
    static kabi::Status own_provision(void* context, const char* package, uint64_t package_length,
                                      const char* interface, uint64_t interface_length,
                                      uint64_t* slot) {
        HostDirectory& self = *static_cast<HostDirectory*>(context);
        std::string caller;
        {
            std::lock_guard<std::mutex> lock(self.mutex_);
            self.lookups_ += 1;
            caller = self.caller_;
        }
        if (caller.empty()) return UMKA_KABI_ENOENT;
        auto found = self.harness_.registry().find(std::string(package, package_length).c_str(),
                                                   std::string(interface, interface_length).c_str(),
                                                   caller.c_str());
        if (found.is_error()) return UMKA_KABI_ENOENT;
        *slot = reinterpret_cast<uint64_t>(found.value());
        return kabi::Status::ok();
    }
};

const directory::DirectoryVtable* HostDirectory::vtable() {
    static constexpr directory::DirectoryVtable kDirectory =
        directory::make_directory_vtable<Vtable>();
    return &kDirectory;
}

void HostDirectory::list(const std::string& package, const std::string& interface,
                         std::vector<std::string> providers) {
    std::lock_guard<std::mutex> lock(mutex_);
    listed_[{package, interface}] = std::move(providers);
}

void HostDirectory::set_caller(const std::string& module) {
    std::lock_guard<std::mutex> lock(mutex_);
    caller_ = module;
}

uint64_t HostDirectory::lookups() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lookups_;
}

}  // namespace umka::harness
