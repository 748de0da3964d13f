// What the block console module's files share: its manifest order, its state, its limits,
// the devices it finds through the service directory and the request slots. One concept
// per file: block_console.cpp (entry, BlockCompletion, devices, DMA buffer, wait queue),
// blk_transfer.cpp (requests in flight), blk_command.cpp (the console's `blk`).
#pragma once

#include <stdint.h>

#include "umka/block_devices.h"
#include "umka/command_output.h"
#include "umka/kabi/block_console.hpp"
#include "umka/kabi/block_console_state.hpp"
#include "umka/kabi/block_device.hpp"
#include "umka/kabi/bus_access.hpp"
#include "umka/kabi/kernel_services.hpp"
#include "umka/line_text.h"
#include "umka/module_entry.h"

namespace umka {
class FillPattern;
namespace crypto {
class Sha256;
}
}  // namespace umka

namespace umka::blk {

namespace block = kabi::block_device;
namespace bus = kabi::bus_access;
namespace services = kabi::kernel_services;
using kabi::Status;
using State = kabi::block_console::BlockConsoleState;

// Manifest order of kabi-idl/modules/block_console.kabi.
enum Required : uint32_t {
    kLog = 0,
    kClock = 1,
    kThreads = 2,
    kDma = 3,
    kDirectory = 4,
    kRequiredCount = 5
};
enum Provided : uint32_t { kCommandSet = 0, kBlockCompletion = 1, kProvidedCount = 2 };
inline constexpr uint32_t kStateCount = 1;

// Sectors as BlockRequest.first_sector counts them (the geometry's sector_size is the
// device's logical block, a multiple of this).
inline constexpr uint64_t kSectorBytes = 512;
// Request slots: a request's cookie is its slot, and State.in_flight has one bit each.
inline constexpr uint32_t kSlotCount = 64;
static_assert(kSlotCount == sizeof(State::results) / sizeof(State::results[0]));
static_assert(kSlotCount <= 8 * sizeof(State::in_flight));
// The one DMA buffer, allocated at first use and kept: every slot's data is a part of it.
inline constexpr uint64_t kBufferBytes = 256 * 1024;
inline constexpr uint64_t kBufferSectors = kBufferBytes / kSectorBytes;
// sha256 and fill split the range in requests small enough that this many fit the buffer
// (when the device's queue takes that many): several in flight, each still large.
inline constexpr uint32_t kPreferredInFlight = 8;
// A request not completed this long after the last completion is given up on.
inline constexpr uint64_t kRequestTimeoutNs = 5'000'000'000ull;
inline constexpr uint64_t kMaximumBenchRequests = 1'000'000;
inline constexpr uint32_t kMaximumDevices = block_devices::kMaximumDevices;

inline State& state_of(const UmkaModuleBinding* binding) {
    // umka_module_entry refused the binding unless the region is there and large enough.
    return *kabi::module_state<State>(binding);
}

using Output = CommandOutput;

// One block device as `blk` names it: vda is ordinal 0.
struct Device {
    block::BlockDeviceRef provider;
    uint32_t provider_index;
    uint32_t device_index;  // within its provider
    uint32_t ordinal;
    block::BlockGeometry geometry;
    char name[4];  // "vda" and its NUL
    // This module's own BlockCompletion slot, which requests name so that they complete here
    // whatever other BlockCompletion providers are loaded (0: the driver's default).
    uint64_t completion_slot;
};

// The device of `ordinal` (provider order, then device index). ENODEV: fewer devices.
Status find_device(const UmkaModuleBinding* binding, uint32_t ordinal, Device* device);

// The DMA buffer and the wait queue, made at first use and kept in the state.
Status ensure_buffer(const UmkaModuleBinding* binding);
Status ensure_wait_queue(const UmkaModuleBinding* binding);

// "vda" for ordinal 0 (ordinals past 25 are never made).

// Where a run's requests go. Range: request k covers [first_sector + k * request_sectors,
// ...) cut at first_sector + sector_count. Wrap: request k of request_sectors sectors at the
// k-th place of the device's sectors taken in steps of request_sectors, starting over at
// sector 0. Random: request k at place (the k-th word of FillPattern(kRandomSeed)) modulo
// the number of places, so a host can replay the same offsets (bench/block_bench.py).
enum class Placement : uint8_t { Range, Wrap, Random };
inline constexpr uint64_t kRandomSeed = 1;

// A run of requests on one device through the slots (blk_transfer.cpp).
struct TransferPlan {
    block::BlockOperation operation;
    uint64_t first_sector;
    uint64_t sector_count;
    uint32_t request_sectors;
    uint64_t request_count;
    Placement placement;
    // Reads: hashes what arrives, in order. Writes: hashes what is sent.
    crypto::Sha256* hash;
    // Writes: each request's data is the pattern's next bytes (null: the buffer as it is).
    FillPattern* pattern;
};

// Runs `plan` with up to `slots` requests in flight (slots * request_sectors sectors fit the
// buffer; the caller checked); the buffer and wait queue exist. Stops at the first failed
// request, prints why ("blk: vda: sector N: EIO") and returns its errno, after waiting
// for the requests still in flight so the buffer is not reused under them.
Status run_transfer(const UmkaModuleBinding* binding, const Device& device,
                    const TransferPlan& plan, uint32_t slots, Output& out);
// A BlockOperation::Flush request: durable when it completes.
Status flush_device(const UmkaModuleBinding* binding, const Device& device, Output& out);

// The console's `blk` (blk_command.cpp).
uint8_t blk_command_precedence();
Status describe_blk_command(char* output, uint64_t capacity, uint64_t* written);
Status blk_command(const UmkaModuleBinding* binding, const char* const* words, uint32_t count,
                   char* output, uint64_t capacity, uint64_t* written);

}  // namespace umka::blk
