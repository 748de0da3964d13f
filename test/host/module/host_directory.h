// service_directory.Directory for module tests, over the harness's service registry: the
// index-th provider of package.interface. An interface the test lists (list()) has exactly
// those providers, in that order (a test can list none); any other has one, its first
// publisher in the registry. own_provision answers for the module the test names as the
// caller (set_caller): the harness cannot tell which loaded module is calling.
#pragma once

#include <stdint.h>

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "module_harness.h"
#include "umka/kabi/service_directory.hpp"

namespace umka::harness {

class HostDirectory {
public:
    explicit HostDirectory(ModuleHarness& harness) : harness_(harness) {}

    // The vtable to publish, with this as its context.
    static const kabi::service_directory::DirectoryVtable* vtable();

    void list(const std::string& package, const std::string& interface,
              std::vector<std::string> providers);
    // The module own_provision answers for (none: ENOENT).
    void set_caller(const std::string& module);
    // How many lookups the module made (found or not).
    uint64_t lookups() const;

    struct Vtable;

private:
    ModuleHarness& harness_;
    mutable std::mutex mutex_;  // a module may look up from its own threads
    std::map<std::pair<std::string, std::string>, std::vector<std::string>> listed_;
    uint64_t lookups_ = 0;
    std::string caller_;
};

}  // namespace umka::harness
