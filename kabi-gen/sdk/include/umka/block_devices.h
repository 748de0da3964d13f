// The console's names for block devices, shared by every module that takes one (`blk`, the
// file systems' `mount vda ...`): vda is ordinal 0, counting the devices of every
// block_device.BlockDevice provider in directory order, then device index within it. A
// provider that cannot be used (no device_kick) names no device, so the names after it stay
// put. Header-only and freestanding, shared through the SDK.
#pragma once

#include <stdint.h>

#include "umka/kabi/block_device.hpp"
#include "umka/kabi/service_directory.hpp"
#include "umka/module_entry.h"

namespace umka::block_devices {

// vda .. vdz.
inline constexpr uint32_t kMaximumDevices = 26;
// Providers of block_device.BlockDevice looked at (a bound on the directory walk).
inline constexpr uint32_t kMaximumProviders = 32;

// "vda".."vdz" (exactly `length` bytes, no NUL needed) to its ordinal.
inline bool parse_name(const char* name, uint64_t length, uint32_t* ordinal) {
    if (length != 3 || name[0] != 'v' || name[1] != 'd' || name[2] < 'a' || name[2] > 'z') {
        return false;
    }
    *ordinal = uint32_t(name[2] - 'a');
    return true;
}

inline void name_of(uint32_t ordinal, char (&name)[4]) {
    name[0] = 'v';
    name[1] = 'd';
    name[2] = char('a' + ordinal % kMaximumDevices);
    name[3] = '\0';
}

struct Found {
    kabi::block_device::BlockDeviceRef provider;
    uint64_t slot;  // the provider's service slot (UmkaServiceSlot*), to bind again later
    uint32_t provider_index;
    uint32_t device_index;  // within its provider
};

// The device of `ordinal`. ENODEV: fewer devices (or ordinal past vdz).
inline kabi::Status find(kabi::service_directory::DirectoryRef& directory, uint32_t ordinal,
                         Found* found) {
    if (ordinal >= kMaximumDevices) return UMKA_KABI_ENODEV;
    static constexpr char kPackage[] = "block_device";
    static constexpr char kInterface[] = "BlockDevice";
    constexpr uint32_t kMinimumVersion = 2;  // the device-indexed methods
    uint32_t first_ordinal = 0;
    for (uint32_t index = 0; index < kMaximumProviders; ++index) {
        uint64_t slot = 0;
        kabi::Status looked =
            directory.provider(kPackage, sizeof kPackage - 1, kInterface, sizeof kInterface - 1,
                               index, kMinimumVersion, &slot);
        if (looked.code() == UMKA_KABI_ENOENT) break;
        kabi::block_device::BlockDeviceRef provider;
        if (looked.is_error() ||
            kabi::bind_service(reinterpret_cast<const UmkaServiceSlot*>(uintptr_t(slot)), &provider)
                .is_error() ||
            !provider.has_device_kick()) {
            continue;
        }
        uint32_t count = provider.device_count();
        if (ordinal - first_ordinal < count) {
            found->provider = provider;
            found->slot = slot;
            found->provider_index = index;
            found->device_index = ordinal - first_ordinal;
            return kabi::Status::ok();
        }
        first_ordinal += count;
        if (first_ordinal > ordinal) break;  // a count past 2^32 - ordinal wrapped
    }
    return UMKA_KABI_ENODEV;
}

// The caller's own BlockCompletion slot when `provider` takes routed requests (0 otherwise:
// its requests then complete to the directory's first BlockCompletion).
inline uint64_t own_completion(kabi::service_directory::DirectoryRef& directory,
                               const kabi::block_device::BlockDeviceRef& provider) {
    static constexpr char kPackage[] = "block_device";
    static constexpr char kCompletion[] = "BlockCompletion";
    uint64_t slot = 0;
    if (!provider.has_device_submit_routed() ||
        directory
            .own_provision(kPackage, sizeof kPackage - 1, kCompletion, sizeof kCompletion - 1,
                           &slot)
            .is_error()) {
        return 0;
    }
    return slot;
}

}  // namespace umka::block_devices
