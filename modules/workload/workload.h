// What every command of the workload module shares: the services it reaches, its state,
// the caller's output buffer and Ctrl-C. One command runs at a time (the console thread);
// workload threads touch only their LoadWorker record and the per-CPU counters.
#pragma once

#include <stdint.h>

#include "umka/kabi/console_command.hpp"
#include "umka/kabi/kernel_services.hpp"
#include "umka/kabi/nucleus_mechanism.hpp"
#include "umka/kabi/service_directory.hpp"
#include "umka/kabi/workload.hpp"
#include "umka/kabi/workload_state.hpp"
#include "umka/module_entry.h"
#include "workload_limits.h"

namespace umka::workload {

namespace services = umka::kabi::kernel_services;
namespace directory = umka::kabi::service_directory;
using umka::kabi::Status;
using State = umka::kabi::workload::WorkloadState;
using Worker = umka::kabi::workload::LoadWorker;

// Manifest order of workload.kabi's `requires`.
enum Required : uint32_t { kLog = 0, kClock = 1, kThreads = 2, kDirectory = 3, kRequiredCount = 4 };

inline State* state_of(const UmkaModuleBinding* binding) {
    return umka::kabi::module_state<State>(binding);
}

// Text written straight into the caller's output buffer; what does not fit is cut and
// `truncated()` says so (the command then answers ENOSPC).
class Output {
public:
    Output(char* data, uint64_t capacity) : data_(data), capacity_(capacity) {}
    Output& add(const char* text);
    Output& add(const char* text, uint64_t length);
    // Right-aligned in `width` characters, padded with `fill`.
    Output& number(uint64_t value, uint32_t width = 0, char fill = ' ');
    Output& signed_number(int64_t value);
    // Left-aligned, padded with spaces to `width` characters.
    Output& padded(const char* text, uint32_t width);
    // "1.25x": numerator / denominator with two decimals (0.00x for a zero denominator).
    Output& ratio(uint64_t numerator, uint64_t denominator);
    uint64_t length() const { return length_; }
    bool truncated() const { return truncated_; }
    // Room after the text, for a service that writes its own output there (advance()).
    char* end() { return data_ + length_; }
    uint64_t room() const { return capacity_ - length_; }
    void advance(uint64_t written) { length_ += written < room() ? written : room(); }

private:
    void put(char character);
    char* data_;
    uint64_t capacity_;
    uint64_t length_ = 0;
    bool truncated_ = false;
};

// Ctrl-C for a long command (console_command.Interrupt, found through the directory):
// poll() asks the console at most every kInterruptPollNs and says whether the user
// pressed Ctrl-C. Without a provider the command still runs, bounded by its limits.
class Interrupt {
public:
    Interrupt(const directory::DirectoryRef& directory, const services::ClockRef& clock);
    bool poll();

private:
    services::ClockRef clock_;
    umka::kabi::console_command::InterruptRef interrupt_;
    bool available_ = false;
    uint64_t last_poll_ns_ = 0;
};

struct Command {
    const UmkaModuleBinding* binding;
    State& state;
    services::ThreadsRef threads;
    services::ClockRef clock;
    directory::DirectoryRef directory;
    Output& out;
    // Words after the command's name, NUL-terminated each.
    const char* const* words;
    uint32_t word_count;
};

// Finds the first provider of package.interface (at least `minimum_version`) and binds
// `ref` to it; false when there is none.
template <typename Ref>
bool find_service(const directory::DirectoryRef& directory, const char* package,
                  uint64_t package_length, const char* interface, uint64_t interface_length,
                  uint32_t minimum_version, Ref* ref, uint64_t* slot_out = nullptr) {
    uint64_t slot = 0;
    if (directory
            .provider(package, package_length, interface, interface_length, 0, minimum_version,
                      &slot)
            .is_error()) {
        return false;
    }
    if (slot_out != nullptr) *slot_out = slot;
    return umka::kabi::bind_service(reinterpret_cast<const UmkaServiceSlot*>(slot), ref).is_ok();
}

// A command whose provider is missing (no heap module, no thread_probe): ENODEV, since
// ENOENT would tell the console the command is not this set's.
inline constexpr int32_t kNoProvider = UMKA_KABI_ENODEV;

bool same_text(const char* left, const char* right);

// Parses `text` as a count from `minimum` to `limit` (umka::parse_unsigned: decimal or 0x
// hex, never wrapping). On a bad one prints "<command>: <what> must be <minimum> to
// <limit>; '<text>' is <why>" and returns false.
bool parse_count(Output& out, const char* command, const char* what, const char* text,
                 uint64_t minimum, uint64_t limit, uint64_t* value);

// The commands (one file each). Each answers EINVAL with a message on bad arguments.
Status load_command(Command& command);
Status heap_command(Command& command);
Status probe_command(Command& command);
Status measure_command(Command& command);
// `probe dma` (probe_dma.cpp).
Status probe_dma(Command& command);
// `measure switch ROUNDS` (measure_switch.cpp), after measure_command checked ROUNDS.
Status measure_switch(Command& command, uint64_t rounds);

// A partner thread of a measurement, pinned to `cpu` at the console's weight (High); prints
// the spawn error, naming the thread.
Status spawn_partner(Command& command, int32_t (*function)(uint64_t), uint64_t argument,
                     uint32_t cpu, const char* name, services::Thread* thread);

// Nanoseconds for `rounds` round trips of one cache line between this CPU and a partner
// thread pinned to `cpu` (measure_pingpong.cpp): the floor of a cross-CPU call. ECANCELED on
// Ctrl-C, ETIMEDOUT when the partner never answers, the spawn error (printed) otherwise.
Status time_ping_pong(Command& command, Interrupt& interrupt, uint32_t cpu, uint64_t rounds,
                      uint64_t* elapsed_ns);

// nucleus_mechanism.Rings (its slot kept in the state once found); false when the nucleus
// publishes none.
bool find_rings(Command& command, umka::kabi::nucleus_mechanism::RingsRef* rings);

// A ring binding to the serial driver's CharDevice: the handle, the slot calls go over the
// ring through, and the provider's own slot.
struct CharDeviceRing {
    umka::kabi::nucleus_mechanism::RingBinding binding;
    uint64_t slot;
    uint64_t provider_slot;
};
Status open_char_device_ring(const umka::kabi::nucleus_mechanism::RingsRef& rings, const char* name,
                             uint64_t name_length,
                             umka::kabi::nucleus_mechanism::RingPlacement placement,
                             CharDeviceRing* ring);

// Runs another console command (the thread table `probe threads` shows) through whoever
// serves it: any command set but this module's own (the shell module's first).
Status run_console_command(Command& command, const char* name, uint64_t name_length);

const char* errno_name(int32_t code);

}  // namespace umka::workload
