// What differs between the SerialState versions the driver is built against.
//
// The same sources build serial_console.umod (kabi-idl/modules/serial_console.kabi,
// SerialState version 1) and serial_console-v2.umod (kabi-idl/versions/serial_console.kabi,
// version 2: bytes_received, and TIOCGICOUNT answered). Each build sees only its own
// generated serial_console_state.hpp; the helpers below compile to version 1's behaviour
// where a field does not exist, so the version-1 build is exactly the released driver.
#pragma once

#include <stdint.h>

#include "umka/kabi/kabi_base.h"
#include "umka/kabi/serial_console_state.hpp"
#include "umka/module_entry.h"

namespace umka::serial_driver {

namespace schema = kabi::serial_console;

// The largest values SerialState.configured (Configured::Interrupts) and .opened
// (OpenState::NonBlocking) take (serial.cpp); a state with more is none of this driver's.
inline constexpr uint8_t kLastConfigured = 2;
inline constexpr uint8_t kLastOpenState = 2;

// Linux's TIOCGICOUNT and the struct serial_icounter_struct it fills (20 ints).
inline constexpr uint32_t kTiocGetInterruptCounts = 0x545D;
inline constexpr uint64_t kInterruptCountsSize = 80;
inline constexpr uint64_t kInterruptCountsReceiveOffset = 16;
inline constexpr uint64_t kInterruptCountsTransmitOffset = 20;

// `count` bytes came from the UART (into the ring or straight to a reader).
template <typename State>
void count_received(State& state, uint64_t count) {
    if constexpr (requires { state.bytes_received; }) {
        __atomic_fetch_add(&state.bytes_received, count, __ATOMIC_RELAXED);
    } else {
        (void)state;
        (void)count;
    }
}

// CharDevice.control(TIOCGICOUNT): version 2 reports its receive and transmit counts
// (Linux's int counters, so they wrap as Linux's do); version 1 knows no command.
template <typename State>
kabi::Status interrupt_counts(const State& state, void* argument, uint64_t length) {
    if constexpr (requires { state.bytes_received; }) {
        if (argument == nullptr || length < kInterruptCountsSize) return UMKA_KABI_EINVAL;
        auto* bytes = static_cast<uint8_t*>(argument);
        __builtin_memset(bytes, 0, kInterruptCountsSize);
        auto received = uint32_t(__atomic_load_n(&state.bytes_received, __ATOMIC_RELAXED));
        auto sent = uint32_t(__atomic_load_n(&state.bytes_written, __ATOMIC_RELAXED));
        __builtin_memcpy(bytes + kInterruptCountsReceiveOffset, &received, sizeof(received));
        __builtin_memcpy(bytes + kInterruptCountsTransmitOffset, &sent, sizeof(sent));
        return kabi::Status::ok();
    } else {
        (void)state;
        (void)argument;
        (void)length;
        return UMKA_KABI_ENOTTY;
    }
}

// kabi-gen's import_serial_state calls this for `migrate from 1` (version-2 build only).
struct MigrationHooks {
    // Version 2 appends to version 1, so the old bytes are the new prefix; everything
    // version 1 received was either read or is still in the ring.
    template <typename Old, typename New>
    static kabi::Status migrate_serial_state_from_v1(const Old& old_state, New& new_state) {
        static_assert(sizeof(Old) < sizeof(New), "version 2 appends to version 1");
        __builtin_memcpy(&new_state, &old_state, sizeof(Old));
        new_state.bytes_received =
            old_state.bytes_read + uint32_t(old_state.receive_tail - old_state.receive_head);
        return kabi::Status::ok();
    }
};

// The driver's UmkaStateImportFunction: the predecessor's SerialState in this build's
// schema (a newer one by its known prefix). EINVAL for bytes that are no SerialState of the
// claimed version or a receive ring claiming more than it holds. Pure: no log, no call.
int32_t import_serial_state(const UmkaStateImport* import);

}  // namespace umka::serial_driver
