// What turns a ring binding into an ordinary service record, for the interfaces the
// nucleus can carry over rings:
//
//   caller side   SerialisedRingCaller: a RingCaller several threads of one consumer may
//                 call through (one call at a time, a sleeping lock around each), and the
//                 generated <Interface>RingVtable<SerialisedRingCaller> adapter, so the
//                 consumer gets {adapter vtable, caller} in its slot and calls it exactly
//                 as a direct provider;
//   provider side SlotDispatch: a RingDispatch that loads the provider's SHARED service
//                 slot for every request and runs the generated dispatch on whatever
//                 record it holds, so a live swap of the provider (one store into that
//                 slot) redirects requests already queued in the ring to the new code.
//
// kRingAdapters is the table (package, interface) -> adapter vtable + dispatch; an
// interface missing from it stays a direct binding. Header-only templates over the lock
// type, so the host tests run the same code with a std::mutex.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/ring/ring_caller.h"
#include "nucleus/ring/ring_provider.h"
#include "umka/kabi/char_device_ring.hpp"
#include "umka/module_entry.h"

namespace umka::ring {

// The generated proxies' Ring over a RingCaller shared by several threads of one consumer:
// reserve() takes the lock, and it is dropped on every way out of a proxy call (reserve
// failed, call failed, or release() after the completion was read). Lock needs lock() and
// unlock(); in the kernel it sleeps (sched::SleepingLock), so a waiting caller gives its CPU
// away while another call crosses the ring.
template <typename Lock>
class SerialisedRingCaller {
public:
    SerialisedRingCaller(RingPair pair, const RingSignals* signals,
                         CompletionHandler handler = {})
        : caller_(pair, signals, handler) {}

    umka_kabi_ring_request* reserve() {
        lock_.lock();
        umka_kabi_ring_request* entry = caller_.reserve();
        if (entry == nullptr) lock_.unlock();
        return entry;
    }

    const umka_kabi_ring_completion* call(umka_kabi_ring_request& entry) {
        const umka_kabi_ring_completion* completion = caller_.call(entry);
        if (completion == nullptr) lock_.unlock();
        return completion;
    }

    void release(const umka_kabi_ring_completion& completion) {
        caller_.release(completion);
        lock_.unlock();
    }

    const RingCaller& caller() const { return caller_; }
    // The caller end itself, for a binding whose ONE consumer thread submits asynchronously
    // (constructed with a CompletionHandler) and never calls through the proxy: it is the
    // single producer then, so the lock has nothing to serialise.
    RingCaller& asynchronous_caller() { return caller_; }
    // Closes the binding: callers waiting for a completion (or the lock, then a slot) get
    // EIO; the provider's loop ends.
    void close() { caller_.close(); }

private:
    RingCaller caller_;
    Lock lock_;
};

// Runs one request against whatever record the provider's shared slot holds right now.
using RecordDispatch = void (*)(const UmkaServiceRecord& record,
                                const umka_kabi_ring_request& request,
                                umka_kabi_ring_completion& completion);

template <typename Vtable, void (*Dispatch)(const Vtable*, void*, const umka_kabi_ring_request&,
                                            umka_kabi_ring_completion&)>
void dispatch_record(const UmkaServiceRecord& record, const umka_kabi_ring_request& request,
                     umka_kabi_ring_completion& completion) {
    Dispatch(reinterpret_cast<const Vtable*>(record.vtable), record.context, request, completion);
}

// The provider loop's RingDispatch: one acquire load of the shared slot per request (never
// cached across requests), then the generated dispatch. An empty slot (provider
// unpublished) answers ENOENT rather than calling through nothing.
class SlotDispatch {
public:
    SlotDispatch(const UmkaServiceSlot* slot, RecordDispatch dispatch)
        : slot_(slot), dispatch_(dispatch) {}

    RingDispatch dispatcher() { return {this, &thunk}; }

private:
    static void thunk(void* self, const umka_kabi_ring_request& request,
                      umka_kabi_ring_completion& completion) {
        auto* target = static_cast<SlotDispatch*>(self);
        const UmkaServiceRecord* record = umka_service_slot_load(target->slot_);
        if (record == nullptr) {
            completion.status = UMKA_KABI_ENOENT;
            return;
        }
        target->dispatch_(*record, request, completion);
    }

    const UmkaServiceSlot* slot_;
    RecordDispatch dispatch_;
};

// One interface the nucleus can carry over a ring.
struct RingAdapter {
    const char* package;
    const char* interface;
    // The generated adapter vtable (starts with umka_kabi_vtable_header); its context is
    // a SerialisedRingCaller<Lock>. void: a constant expression cannot reinterpret_cast.
    const void* vtable;
    uint32_t interface_version;
    RecordDispatch dispatch;
};

template <typename Lock>
struct RingAdapterTable {
    using Caller = SerialisedRingCaller<Lock>;
    static constexpr RingAdapter kAdapters[] = {
        {"char_device", "CharDevice", &kabi::char_device::CharDeviceRingVtable<Caller>::vtable,
         kabi::char_device::CharDeviceRef::interface_version,
         &dispatch_record<kabi::char_device::CharDeviceVtable,
                          &kabi::char_device::char_device_ring::dispatch>},
    };

    // The adapter for package.interface, or nullptr: that interface stays direct.
    static const RingAdapter* find(const char* package, const char* interface) {
        for (const RingAdapter& adapter : kAdapters) {
            if (__builtin_strcmp(adapter.package, package) == 0 &&
                __builtin_strcmp(adapter.interface, interface) == 0) {
                return &adapter;
            }
        }
        return nullptr;
    }
};

}  // namespace umka::ring
