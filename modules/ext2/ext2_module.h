// What the ext2 module's files share (kabi-idl/modules/ext2.kabi): its manifest order, its
// state, and the disk under a volume as the core's synchronous Device (ext2_disk.cpp).
#pragma once

#include <stdint.h>

#include "ext2_volume.h"
#include "umka/kabi/block_device.hpp"
#include "umka/kabi/ext2_state.hpp"
#include "umka/kabi/kernel_services.hpp"
#include "umka/module_entry.h"

namespace umka::ext2 {

using State = kabi::ext2::Ext2State;
using VolumeRecord = kabi::ext2::Ext2Volume;

// Manifest order of kabi-idl/modules/ext2.kabi.
enum Required : uint32_t {
    kLog = 0,
    kModuleMemory = 1,
    kClock = 2,
    kThreads = 3,
    kDma = 4,
    kDirectory = 5,
    kRequiredCount = 6
};
enum Provided : uint32_t { kFileSystem = 0, kBlockCompletion = 1, kProvidedCount = 2 };

inline constexpr uint32_t kMaximumVolumes = sizeof(State::volumes) / sizeof(State::volumes[0]);
// One volume's memory, the documented bound on its cache (docs/files.md): 2 MiB.
inline constexpr uint64_t kVolumeBytes = 2ull << 20;
// The bounce buffer every request moves through, and so the largest request.
inline constexpr uint64_t kBounceBytes = 128ull << 10;
// A request not completed this long after it was kicked fails the call with EIO.
inline constexpr uint64_t kRequestTimeoutNs = 10'000'000'000ull;

inline State& state_of(const UmkaModuleBinding* binding) {
    return *kabi::module_state<State>(binding);
}

void log_line(const UmkaModuleBinding* binding, kabi::kernel_services::LogLevel level,
              const char* text, uint64_t length);

// The bounce buffer and the wait queue, made at the first mount and kept for the module's
// life (a successor finds them in the state).
Status ensure_disk_resources(const UmkaModuleBinding* binding);

// The disk of one volume record, one request at a time through the bounce buffer; every
// request names this module's BlockCompletion (complete_request).
class Disk final : public Device {
public:
    Disk(const UmkaModuleBinding* binding, const VolumeRecord& record)
        : binding_(binding), record_(record) {}
    Status read(uint64_t offset, void* buffer, uint32_t length) override;
    Status write(uint64_t offset, const void* data, uint32_t length) override;
    Status flush() override;

private:
    Status transfer(kabi::block_device::BlockOperation operation, uint64_t offset, uint32_t length);

    const UmkaModuleBinding* binding_;
    const VolumeRecord& record_;
};

// block_device.BlockCompletion.complete: the driver's thread, any CPU.
void complete_request(const UmkaModuleBinding* binding, uint64_t cookie, int32_t result);

}  // namespace umka::ext2
