// libFuzzer over the driver side of the split virtqueue (umka/virtio/split_queue.h), with
// the fuzzer as a hostile device that writes arbitrary used-ring entries and used indices.
// The first byte picks the queue size (1..256) and the indirect / event-index features; the
// rest is a script of submit, device-write, poll, drain and notify operations.
// Invariants (abort() otherwise; ASan/UBSan catch any access outside the region):
// - poll returns Completed only with a token in flight, `written` at most the bytes the
//   request let the device write, and exactly the verdict the header documents (Empty,
//   Completed, or Broken with the problem of the first failed check);
// - once poll returned Broken, every later poll and submit returns Broken;
// - in_flight() equals the requests tracked here, free_descriptors() is never above size
//   and equals size minus the descriptors of those requests;
// - every submitted chain reads back, as the device sees it, as the segments given, and no
//   descriptor is in two chains in flight;
// - drain visits each token in flight exactly once and leaves nothing in flight.
#include <umka/virtio/split_queue.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <new>
#include <set>
#include <vector>

namespace {

using umka::virtio::Completion;
using umka::virtio::Descriptor;
using umka::virtio::kDescriptorIndirect;
using umka::virtio::kDescriptorNext;
using umka::virtio::kDescriptorWrite;
using umka::virtio::kMaximumSegments;
using umka::virtio::PollResult;
using umka::virtio::QueueMemory;
using umka::virtio::QueueProblem;
using umka::virtio::Segment;
using umka::virtio::SplitQueue;
using umka::virtio::SubmitResult;
using umka::virtio::UsedElement;

constexpr size_t kMaximumOperations = 4096;

void check(bool condition) {
    if (!condition) std::abort();
}

// Reads past the end as zeros, so that every script is runnable to its last operation.
class Input {
public:
    Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    bool empty() const { return offset_ >= size_; }
    uint8_t byte() { return offset_ < size_ ? data_[offset_++] : 0; }
    uint16_t u16() { return uint16_t(byte() | (byte() << 8)); }
    uint32_t u32() { return uint32_t(u16()) | (uint32_t(u16()) << 16); }
    uint64_t u64() { return uint64_t(u32()) | (uint64_t(u32()) << 32); }

private:
    const uint8_t* data_;
    size_t size_;
    size_t offset_ = 0;
};

// The layout the device is told about, computed independently of the header's private
// offsets so that a wrong offset there shows up as a disagreement here.
struct DeviceView {
    uint8_t* base;
    uint64_t bytes;
    uint16_t size;

    static uint64_t align(uint64_t value, uint64_t to) { return (value + to - 1) / to * to; }
    uint64_t available_offset() const { return uint64_t(size) * 16; }
    uint64_t used_offset() const { return align(available_offset() + 6 + 2 * uint64_t(size), 4); }
    uint64_t indirect_offset() const { return align(used_offset() + 6 + 8 * uint64_t(size), 16); }

    Descriptor descriptor(uint16_t index) const {
        Descriptor value;
        std::memcpy(&value, base + uint64_t(index) * 16, sizeof value);
        return value;
    }
    uint16_t available_index() const { return load16(available_offset() + 2); }
    uint16_t available_entry(uint16_t index) const {
        return load16(available_offset() + 4 + 2 * uint64_t(index & (size - 1)));
    }
    uint16_t used_index() const { return load16(used_offset() + 2); }
    void set_used_index(uint16_t value) { store16(used_offset() + 2, value); }
    UsedElement used_element(uint16_t index) const {
        UsedElement value;
        std::memcpy(&value, base + used_offset() + 4 + 8 * uint64_t(index & (size - 1)),
                    sizeof value);
        return value;
    }
    void set_used_element(uint16_t index, UsedElement value) {
        std::memcpy(base + used_offset() + 4 + 8 * uint64_t(index & (size - 1)), &value,
                    sizeof value);
    }
    void set_available_event(uint16_t value) {
        store16(used_offset() + 4 + 8 * uint64_t(size), value);
    }
    void set_used_flags(uint16_t value) { store16(used_offset(), value); }

    uint16_t load16(uint64_t offset) const {
        uint16_t value;
        std::memcpy(&value, base + offset, sizeof value);
        return value;
    }
    void store16(uint64_t offset, uint16_t value) {
        std::memcpy(base + offset, &value, sizeof value);
    }
};

struct Request {
    uint64_t token;
    uint64_t writable;  // unclamped: the invariant is about the bytes really offered
    std::vector<uint16_t> descriptors;  // table slots the chain occupies
};

// Walks the chain at `head` as a device would and checks it against `segments`. Returns the
// table slots it occupies. Every read is bounds-checked, so a bad link aborts here rather
// than reading a wild address.
std::vector<uint16_t> read_chain(const DeviceView& view, uint16_t head, bool indirect,
                                 const Segment* segments, uint16_t count) {
    check(head < view.size);
    Descriptor first = view.descriptor(head);
    if (indirect && count > 1) {
        check(first.flags == kDescriptorIndirect);
        check(first.length == count * sizeof(Descriptor));
        uint64_t start = reinterpret_cast<uint64_t>(view.base);
        uint64_t table_start = start + view.indirect_offset();
        // Each head has its own table, so two requests in flight never share one.
        check(first.address == table_start + uint64_t(head) * kMaximumSegments * 16);
        check(first.address + first.length <= start + view.bytes);
        const uint8_t* table = view.base + (first.address - start);
        for (uint16_t index = 0; index < count; ++index) {
            Descriptor descriptor;
            std::memcpy(&descriptor, table + 16 * uint64_t(index), sizeof descriptor);
            check(descriptor.address == segments[index].device_address);
            check(descriptor.length == segments[index].length);
            uint16_t flags = segments[index].device_writes ? kDescriptorWrite : 0;
            if (index + 1 < count) {
                flags |= kDescriptorNext;
                check(descriptor.next == index + 1);
            }
            check(descriptor.flags == flags);
        }
        return {head};
    }
    std::vector<uint16_t> slots;
    uint16_t current = head;
    for (uint16_t index = 0; index < count; ++index) {
        check(current < view.size);
        Descriptor descriptor = view.descriptor(current);
        check(descriptor.address == segments[index].device_address);
        check(descriptor.length == segments[index].length);
        uint16_t flags = segments[index].device_writes ? kDescriptorWrite : 0;
        if (index + 1 < count) flags |= kDescriptorNext;
        check(descriptor.flags == flags);
        slots.push_back(current);
        current = descriptor.next;
    }
    return slots;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Input input(data, size);
    uint8_t setup = input.byte();
    uint16_t queue_size = uint16_t(1u << ((setup & 15) % 9));
    bool indirect = (setup & 0x10) != 0;
    bool event_index = (setup & 0x20) != 0;

    uint64_t bytes = SplitQueue::memory_bytes(queue_size);
    auto* cpu = static_cast<uint8_t*>(::operator new (bytes, std::align_val_t{16}));
    // Garbage first: initialize() must not rely on the region arriving zeroed.
    std::memset(cpu, 0xA5, bytes);
    SplitQueue queue;
    check(queue.initialize(QueueMemory{cpu, reinterpret_cast<uint64_t>(cpu), bytes}, queue_size,
                           indirect, event_index));
    check(queue.size() == queue_size && queue.in_flight() == 0 &&
          queue.free_descriptors() == queue_size && queue.problem() == QueueProblem::None);
    DeviceView view{cpu, bytes, queue_size};

    std::map<uint16_t, Request> by_head;  // what the device was given, by chain head
    std::set<uint64_t> tokens;            // the tokens in flight
    uint64_t next_token = 0x1000;
    uint16_t last_used = 0;  // the driver's, advanced by every Completed poll
    uint32_t descriptors_in_flight = 0;
    bool broken = false;
    uint16_t notified_at = 0;

    for (size_t operation = 0; operation < kMaximumOperations && !input.empty(); ++operation) {
        uint8_t code = input.byte();
        switch (code % 6) {
        case 0: {  // submit
            uint16_t count = uint16_t(1 + input.byte() % kMaximumSegments);
            Segment segments[kMaximumSegments];
            uint64_t writable = 0;
            bool has_empty = false;
            for (uint16_t index = 0; index < count; ++index) {
                uint8_t shape = input.byte();
                uint32_t length = shape & 0x40 ? input.u32() : uint32_t(shape & 0x3F);
                uint64_t address = shape & 0x20 ? input.u64() : 0x100000 + 0x1000 * index;
                bool writes = (shape & 0x80) != 0;
                segments[index] = Segment{address, length, writes};
                if (length == 0) has_empty = true;
                if (writes) writable += length;
            }
            // Tokens are unique, but spread over the whole range rather than dense.
            uint64_t token = (next_token++ << 8) ^ (uint64_t(code) << 56);
            uint16_t needed = indirect && count > 1 ? 1 : count;
            uint16_t free_before = queue.free_descriptors();
            SubmitResult result = queue.submit(segments, count, token);
            if (broken) {
                check(result == SubmitResult::Broken);
            } else if (has_empty || needed > queue_size) {  // empty, or never fits the ring
                check(result == SubmitResult::BadRequest);
            } else if (free_before < needed) {
                check(result == SubmitResult::NoRoom);
            } else {
                check(result == SubmitResult::Submitted);
            }
            if (result != SubmitResult::Submitted) break;
            uint16_t head = view.available_entry(uint16_t(view.available_index() - 1));
            check(view.available_index() == queue.available_index());
            check(by_head.count(head) == 0);
            Request request{token, writable, read_chain(view, head, indirect, segments, count)};
            check(request.descriptors.size() == needed);
            for (const auto& [other_head, other] : by_head) {
                for (uint16_t slot : other.descriptors) {
                    for (uint16_t mine : request.descriptors) check(slot != mine);
                }
            }
            descriptors_in_flight += needed;
            tokens.insert(token);
            by_head.emplace(head, std::move(request));
            break;
        }
        case 1: {  // the device writes the used element the driver reads next, or any other
            uint8_t mode = input.byte();
            uint16_t slot = mode & 1 ? view.used_index() : uint16_t(last_used + input.byte());
            UsedElement element;
            if ((mode & 6) == 0 || by_head.empty()) {
                element.id = input.u32();
            } else if ((mode & 6) == 2) {
                element.id = input.byte();
            } else {
                // A head really in flight, so that completions get through.
                auto chosen = by_head.begin();
                std::advance(chosen, input.byte() % by_head.size());
                element.id = chosen->first;
            }
            auto request = by_head.find(uint16_t(element.id));
            if ((mode & 0x18) == 0 || request == by_head.end()) {
                element.length = input.u32();
            } else {
                // At, just above, or below the device-writable bytes: the boundary.
                uint64_t writable = request->second.writable;
                uint64_t delta = input.byte() % 4;
                uint64_t length = (mode & 0x18) == 0x08 ? writable + delta
                                  : (mode & 0x18) == 0x10
                                      ? (writable >= delta ? writable - delta : 0)
                                      : writable + 1;
                element.length = uint32_t(length > 0xFFFFFFFFu ? 0xFFFFFFFFu : length);
            }
            view.set_used_element(slot, element);
            if (mode & 0x20) view.set_used_index(uint16_t(view.used_index() + 1));
            break;
        }
        case 2: {  // the device stores a used index
            uint8_t mode = input.byte();
            uint16_t value = mode & 1 ? input.u16() : uint16_t(last_used + mode / 2 % 8);
            view.set_used_index(value);
            break;
        }
        case 3: {  // poll, against the verdict the header documents
            uint16_t used_index = view.used_index();
            UsedElement element = view.used_element(last_used);
            QueueProblem expected_problem = QueueProblem::None;
            PollResult expected = PollResult::Completed;
            auto request = by_head.end();
            if (broken) {
                expected = PollResult::Broken;
                expected_problem = queue.problem();
            } else if (used_index == last_used) {
                expected = PollResult::Empty;
            } else if (uint16_t(used_index - last_used) > tokens.size()) {
                expected_problem = QueueProblem::UsedIndexRanAhead;
            } else if (element.id >= queue_size) {
                expected_problem = QueueProblem::UsedIdOutOfRange;
            } else if ((request = by_head.find(uint16_t(element.id))) == by_head.end()) {
                expected_problem = QueueProblem::UsedIdNotInFlight;
            } else if (element.length > request->second.writable) {
                expected_problem = QueueProblem::UsedLengthTooLarge;
            }
            if (expected_problem != QueueProblem::None) expected = PollResult::Broken;

            Completion completion{0xDEAD, 0xDEAD};
            PollResult result = queue.poll(&completion);
            check(result == expected);
            check(queue.problem() == expected_problem);
            if (result == PollResult::Broken) {
                check(queue.problem() != QueueProblem::None);
                broken = true;
            } else if (result == PollResult::Completed) {
                check(tokens.count(completion.token) == 1);
                check(completion.token == request->second.token);
                check(completion.written == element.length);
                check(completion.written <= request->second.writable);
                tokens.erase(completion.token);
                descriptors_in_flight -= uint32_t(request->second.descriptors.size());
                by_head.erase(request);
                ++last_used;
            }
            break;
        }
        case 4: {  // drain, as after a device reset
            std::set<uint64_t> visited;
            uint16_t drained = queue.drain([&](uint64_t token) {
                check(tokens.count(token) == 1);
                check(visited.insert(token).second);
            });
            check(visited == tokens);
            check(drained == tokens.size());
            check(queue.in_flight() == 0);
            check(queue.free_descriptors() == queue_size);
            tokens.clear();
            by_head.clear();
            descriptors_in_flight = 0;
            break;
        }
        case 5: {  // notification paths: results are the device's business, not checked
            uint8_t mode = input.byte();
            if (mode & 1) view.set_available_event(input.u16());
            if (mode & 2) view.set_used_flags(input.u16());
            if (mode & 4) {
                if (mode & 8) {
                    queue.disable_interrupts();
                } else {
                    (void)queue.enable_interrupts();
                }
            }
            (void)queue.needs_notify(notified_at);
            notified_at = queue.available_index();
            break;
        }
        }
        check(queue.free_descriptors() <= queue_size);
        check(queue.in_flight() == tokens.size());
        check(queue.free_descriptors() == queue_size - descriptors_in_flight);
        check((queue.problem() != QueueProblem::None) == broken);
    }

    ::operator delete (cpu, std::align_val_t{16});
    return 0;
}
