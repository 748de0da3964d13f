// The block console module (kabi-idl/modules/block_console.kabi): the console's `blk`
// command (blk_command.cpp) over every block_device.BlockDevice the service directory
// lists, and the block_device.BlockCompletion their drivers complete requests through.
//
// Completions arrive on the driver's thread, not the command's: complete() records the
// result in the request's slot, clears its in_flight bit and then counts it in
// `completed`, whose low word the command thread sleeps on (Threads.queue_wait), so a
// completion between the command's check and its sleep changes the word and is not lost.
#include "block_console.h"

#include "umka/command_words.h"
#include "umka/kabi/block_console_manifest.hpp"
#include "umka/kabi/console_command.hpp"
#include "umka/kabi/service_directory.hpp"

namespace umka::blk {

Status find_device(const UmkaModuleBinding* binding, uint32_t ordinal, Device* device) {
    kabi::service_directory::DirectoryRef directory;
    if (kabi::bind_required(binding, kDirectory, &directory).is_error()) return UMKA_KABI_ENODEV;
    block_devices::Found found;
    if (Status status = block_devices::find(directory, ordinal, &found); status.is_error()) {
        return status;
    }
    device->provider = found.provider;
    device->provider_index = found.provider_index;
    device->device_index = found.device_index;
    device->ordinal = ordinal;
    block_devices::name_of(ordinal, device->name);
    device->completion_slot = block_devices::own_completion(directory, found.provider);
    device->geometry = {};
    // A device its driver could not bring up is there but not ready: EIO, so a listing goes
    // on past it (ENODEV means no such device).
    Status geometry = found.provider.device_geometry(device->device_index, &device->geometry);
    return geometry.code() == UMKA_KABI_ENODEV ? Status(UMKA_KABI_EIO) : geometry;
}

Status ensure_buffer(const UmkaModuleBinding* binding) {
    State& state = state_of(binding);
    if (state.dma_length != 0) return Status::ok();
    bus::DmaRef dma;
    if (Status bound = kabi::bind_required(binding, kDma, &dma); bound.is_error()) return bound;
    bus::DmaBuffer buffer{};
    bus::DmaMapping mapping{};
    Status allocated =
        dma.allocate(kBufferBytes, bus::DmaDirection::ToDevice | bus::DmaDirection::FromDevice,
                     &buffer, &mapping);
    if (allocated.is_error()) return allocated;
    if (mapping.cpu_address == 0 || mapping.length < kBufferBytes) {
        (void)dma.release(buffer);
        return UMKA_KABI_ENOMEM;
    }
    state.dma_buffer = buffer.value;
    state.dma_cpu_address = mapping.cpu_address;
    state.dma_device_address = mapping.device_address.value;
    state.dma_length = kBufferBytes;
    return Status::ok();
}

Status ensure_wait_queue(const UmkaModuleBinding* binding) {
    State& state = state_of(binding);
    if (state.wait_queue_ready != 0) return Status::ok();
    services::ThreadsRef threads;
    if (Status bound = kabi::bind_required(binding, kThreads, &threads); bound.is_error()) {
        return bound;
    }
    services::WaitQueue queue{};
    if (Status created = threads.queue_create(&queue); created.is_error()) return created;
    state.wait_queue = queue.value;
    // Published after the handle: complete() wakes the queue only once this says it exists.
    __atomic_store_n(&state.wait_queue_ready, 1u, __ATOMIC_RELEASE);
    return Status::ok();
}

}  // namespace umka::blk

namespace {

using umka::blk::State;
using umka::blk::Status;

constexpr uint32_t kMaximumWords = 32;

struct Completion {
    // The driver's thread, any CPU. Only a cookie naming a slot in flight counts; the bit
    // is taken atomically, so a duplicate completion of one request is a stray one.
    static void complete(void* context, uint64_t cookie, int32_t result) {
        const UmkaModuleBinding* binding = umka::kabi::binding_of(context);
        State& state = umka::blk::state_of(binding);
        if (cookie >= umka::blk::kSlotCount) {
            __atomic_add_fetch(&state.stray_completions, 1, __ATOMIC_RELAXED);
            return;
        }
        uint64_t bit = uint64_t(1) << cookie;
        if ((__atomic_load_n(&state.in_flight, __ATOMIC_ACQUIRE) & bit) == 0) {
            __atomic_add_fetch(&state.stray_completions, 1, __ATOMIC_RELAXED);
            return;
        }
        // The result first: the command reads it once it sees the bit clear.
        __atomic_store_n(&state.results[cookie], result, __ATOMIC_RELAXED);
        uint64_t before = __atomic_fetch_and(&state.in_flight, ~bit, __ATOMIC_ACQ_REL);
        if ((before & bit) == 0) {  // another completion of it got there first
            __atomic_add_fetch(&state.stray_completions, 1, __ATOMIC_RELAXED);
            return;
        }
        __atomic_add_fetch(&state.completed, 1, __ATOMIC_RELEASE);
        if (__atomic_load_n(&state.wait_queue_ready, __ATOMIC_ACQUIRE) == 0) return;
        umka::kabi::kernel_services::ThreadsRef threads;
        if (umka::kabi::bind_required(binding, umka::blk::kThreads, &threads).is_error()) return;
        uint32_t woken = 0;
        (void)threads.queue_wake(umka::kabi::kernel_services::WaitQueue{state.wait_queue},
                                 umka::blk::kSlotCount, &woken);
    }
};
static_assert(__is_empty(Completion), "module code keeps no state of its own");

struct Commands {
    static uint8_t precedence(void*) { return umka::blk::blk_command_precedence(); }
    static Status describe(void*, void* output, uint64_t capacity, uint64_t* written) {
        return umka::blk::describe_blk_command(static_cast<char*>(output), capacity, written);
    }
    static Status execute(void* context, const void* arguments, uint64_t arguments_length,
                          uint32_t count, void* output, uint64_t capacity, uint64_t* written) {
        *written = 0;
        const char* words[kMaximumWords];
        if (!umka::split_command_words(arguments, arguments_length, count, words, kMaximumWords)) {
            return UMKA_KABI_EINVAL;
        }
        return umka::blk::blk_command(umka::kabi::binding_of(context), words, count,
                                      static_cast<char*>(output), capacity, written);
    }
};
static_assert(__is_empty(Commands), "module code keeps no state of its own");

constexpr umka::kabi::block_device::BlockCompletionVtable completion_vtable =
    umka::kabi::block_device::make_block_completion_vtable<Completion>();
constexpr umka::kabi::console_command::CommandSetVtable command_set_vtable =
    umka::kabi::console_command::make_command_set_vtable<Commands>();

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_BLOCK_CONSOLE();

// Touches no device and allocates nothing: the buffer and the wait queue are made by the
// first command that needs them, so a module that is never used costs no DMA memory.
UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, umka::blk::kRequiredCount, umka::blk::kProvidedCount,
                                     umka::blk::kStateCount)) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "binding of another manifest", 27);
    }
    if (umka::kabi::module_state<State>(binding) == nullptr) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "no BlockConsoleState region", 27);
    }
    if (Status status =
            umka_module_provide(binding, umka::blk::kCommandSet, &command_set_vtable, binding);
        status.is_error()) {
        return status.code();
    }
    return umka_module_provide(binding, umka::blk::kBlockCompletion, &completion_vtable, binding);
}
