// The console's `blk` (served through console_command.CommandSet): lists the block devices
// (vda, vdb, ... in directory order), hashes a range of sectors, fills one with the SDK's
// documented pattern (umka/fill_pattern.h) and measures sequential requests. README.md
// gives the formats and limits. Sectors are 512 bytes, as BlockRequest counts them.
#include "block_console.h"
#include "nucleus/crypto/sha256.h"
#include "umka/command_words.h"
#include "umka/errno_text.h"
#include "umka/fill_pattern.h"
#include "umka/number_text.h"

namespace umka::blk {
namespace {

constexpr char kDescription[] =
    "blk         blk: block devices (name sectors sector-size queue-depth driver@where ro|rw) | "
    "blk sha256 DEV FIRST COUNT | blk fill DEV FIRST COUNT SEED | "
    "blk bench DEV read|write|randread|randwrite SECTORS REQUESTS [DEPTH] (REQUESTS <= 1000000, "
    "DEPTH <= 64)\n";
constexpr char kUsage[] =
    "usage: blk | blk sha256 DEV FIRST COUNT | blk fill DEV FIRST COUNT SEED | blk bench DEV "
    "read|write|randread|randwrite SECTORS REQUESTS [DEPTH]\n";

Status usage(Output& out) {
    out.add(kUsage, sizeof kUsage - 1);
    return UMKA_KABI_EINVAL;
}

// `word` as a number no greater than `limit`; else says why, naming `what`.
bool parse_number(const char* what, const char* word, uint64_t limit, uint64_t* value,
                  Output& out) {
    ParsedNumber parsed = parse_unsigned(word, limit);
    if (parsed.ok()) {
        *value = parsed.value;
        return true;
    }
    LineText<128> line;
    line.add("blk: ").add(what).add(": '").add(word).add("' is ").add(
        number_error_text(parsed.error));
    out.line(line);
    return false;
}

Status report(Output& out, const char* name, int32_t code) {
    LineText<96> line;
    line.add("blk: ").add(name).add(": ").add(errno_text(code));
    out.line(line);
    return code;
}

// The device named `word`, its buffer and wait queue ready.
Status open_device(const UmkaModuleBinding* binding, const char* word, Device* device,
                   Output& out) {
    uint32_t ordinal = 0;
    uint64_t length = 0;
    while (length < 4 && word[length] != '\0') ++length;  // a name is 3 bytes: 4 is too long
    if (!block_devices::parse_name(word, length, &ordinal))
        return report(out, word, UMKA_KABI_ENODEV);
    if (Status found = find_device(binding, ordinal, device); found.is_error()) {
        return report(out, word, found.code());
    }
    uint32_t sector_size = device->geometry.sector_size;
    if (sector_size < kSectorBytes || sector_size % kSectorBytes != 0 ||
        device->geometry.max_request_sectors == 0 || device->geometry.queue_depth == 0) {
        LineText<96> line;
        line.add("blk: ").add(word).add(": unusable geometry (sector size ").number(sector_size);
        out.line(line.add(")"));
        return UMKA_KABI_EINVAL;
    }
    if (Status ready = ensure_buffer(binding); ready.is_error()) {
        return report(out, "DMA buffer", ready.code());
    }
    if (Status ready = ensure_wait_queue(binding); ready.is_error()) {
        return report(out, "wait queue", ready.code());
    }
    return Status::ok();
}

// Sectors per logical block: requests start and end on a block.
uint32_t block_sectors(const Device& device) {
    return device.geometry.sector_size / uint32_t(kSectorBytes);
}

// [first, first + count) within the device and on its logical blocks.
Status check_range(const Device& device, uint64_t first, uint64_t count, Output& out) {
    uint64_t sectors = device.geometry.sector_count;
    LineText<128> line;
    line.add("blk: ").add(device.name).add(": ");
    if (count == 0) {
        out.line(line.add("COUNT must be at least 1"));
        return UMKA_KABI_EINVAL;
    }
    if (first >= sectors || count > sectors - first) {
        line.add("sectors ").number(first).add("+").number(count);
        out.line(line.add(" past the end (").number(sectors).add(" sectors)"));
        return UMKA_KABI_ERANGE;
    }
    uint32_t block = block_sectors(device);
    if (first % block != 0 || count % block != 0) {
        line.add("FIRST and COUNT must be multiples of ").number(block);
        out.line(line.add(" (").number(device.geometry.sector_size).add("-byte sectors)"));
        return UMKA_KABI_EINVAL;
    }
    return Status::ok();
}

// sha256 and fill: requests as large as the device takes and the buffer holds with
// kPreferredInFlight (or the queue depth, if smaller) of them in flight.
uint32_t range_request_sectors(const Device& device) {
    uint64_t depth = device.geometry.queue_depth;
    if (depth > kPreferredInFlight) depth = kPreferredInFlight;
    uint64_t sectors = kBufferSectors / depth;
    if (sectors > device.geometry.max_request_sectors)
        sectors = device.geometry.max_request_sectors;
    uint32_t block = block_sectors(device);
    sectors -= sectors % block;
    return uint32_t(sectors < block ? block : sectors);
}

uint32_t slots_for(const Device& device, uint32_t request_sectors) {
    uint64_t slots = kBufferSectors / request_sectors;
    if (slots > device.geometry.queue_depth) slots = device.geometry.queue_depth;
    if (slots > kSlotCount) slots = kSlotCount;
    return uint32_t(slots);
}

void add_digest(LineText<160>& line, crypto::Sha256& hash) {
    uint8_t digest[crypto::kSha256DigestSize];
    hash.finish(digest);
    for (uint8_t byte : digest) line.hex_digits(byte, 2);
}

// The driver and where the device is (BlockDevice v3), else the provider and device index.
void add_origin(const Device& device, LineText<128>& line) {
    block::BlockDeviceOrigin origin{};
    if (device.provider.has_device_origin() &&
        device.provider.device_origin(device.device_index, &origin).is_ok() &&
        origin.driver[0] != 0) {
        for (uint8_t byte : origin.driver) {
            if (byte == 0) break;
            char text[2] = {char(byte), '\0'};
            line.add(text);
        }
        if (origin.location[0] != 0) line.add("@");
        for (uint8_t byte : origin.location) {
            if (byte == 0) break;
            char text[2] = {char(byte), '\0'};
            line.add(text);
        }
        return;
    }
    line.add("provider").number(device.provider_index).add(":").number(device.device_index);
}

Status list_devices(const UmkaModuleBinding* binding, Output& out) {
    uint32_t count = 0;
    for (; count < kMaximumDevices; ++count) {
        Device device{};
        Status found = find_device(binding, count, &device);
        if (found.code() == UMKA_KABI_ENODEV) break;
        LineText<128> line;
        block_devices::name_of(count, device.name);
        line.add(device.name).add(" ");
        if (found.is_error()) {
            out.line(line.add("not ready: ").add(errno_text(found.code())));
            continue;
        }
        const block::BlockGeometry& geometry = device.geometry;
        line.number(geometry.sector_count).add(" ").number(geometry.sector_size).add(" ");
        line.number(geometry.queue_depth).add(" ");
        add_origin(device, line);
        line.add(geometry.read_only ? " ro" : " rw");
        out.line(line);
    }
    LineText<64> summary;
    if (count == 0) {
        summary.add("no block devices");
    } else {
        summary.number(count).add(count == 1 ? " block device" : " block devices");
    }
    out.line(summary);
    return Status::ok();
}

// blk sha256 DEV FIRST COUNT and blk fill DEV FIRST COUNT SEED.
Status hash_or_fill(const UmkaModuleBinding* binding, const char* const* words, bool fill,
                    Output& out) {
    uint64_t first = 0;
    uint64_t count = 0;
    uint64_t seed = 0;
    if (!parse_number("FIRST", words[3], ~uint64_t(0), &first, out) ||
        !parse_number("COUNT", words[4], ~uint64_t(0), &count, out) ||
        (fill && !parse_number("SEED", words[5], ~uint64_t(0), &seed, out))) {
        return UMKA_KABI_EINVAL;
    }
    Device device{};
    if (Status opened = open_device(binding, words[2], &device, out); opened.is_error()) {
        return opened;
    }
    if (Status checked = check_range(device, first, count, out); checked.is_error()) {
        return checked;
    }
    if (fill && device.geometry.read_only) return report(out, device.name, UMKA_KABI_EROFS);
    crypto::Sha256 hash;
    FillPattern pattern(seed);
    uint32_t request_sectors = range_request_sectors(device);
    TransferPlan plan{};
    plan.operation = fill ? block::BlockOperation::Write : block::BlockOperation::Read;
    plan.first_sector = first;
    plan.sector_count = count;
    plan.request_sectors = request_sectors;
    plan.request_count = (count + request_sectors - 1) / request_sectors;
    plan.hash = &hash;
    plan.pattern = fill ? &pattern : nullptr;
    Status ran = run_transfer(binding, device, plan, slots_for(device, request_sectors), out);
    if (ran.is_ok() && fill) ran = flush_device(binding, device, out);
    if (ran.is_error()) return ran;
    LineText<160> line;
    line.add(device.name).add(" ").number(first).add("+").number(count);
    if (fill) line.add(" filled seed ").number(seed);
    line.add(" sha256 ");
    add_digest(line, hash);
    out.line(line);
    return Status::ok();
}

// "12.5": tenths, for MiB/s.
void add_tenths(LineText<160>& line, uint64_t tenths) {
    line.number(tenths / 10).add(".").number(tenths % 10);
}

// blk bench DEV read|write|randread|randwrite SECTORS REQUESTS [DEPTH]: DEPTH requests in
// flight at most (default: as many as the buffer and the queue allow); read and write walk
// the device in order, randread and randwrite go to places drawn from FillPattern(1).
Status bench(const UmkaModuleBinding* binding, const char* const* words, uint32_t count,
             Output& out) {
    bool random = same_word(words[3], "randread") || same_word(words[3], "randwrite");
    bool writing = same_word(words[3], "write") || same_word(words[3], "randwrite");
    if (!writing && !random && !same_word(words[3], "read")) return usage(out);
    uint64_t sectors = 0;
    uint64_t requests = 0;
    uint64_t depth = kSlotCount;
    if (!parse_number("SECTORS", words[4], kBufferSectors, &sectors, out) ||
        !parse_number("REQUESTS", words[5], kMaximumBenchRequests, &requests, out) ||
        (count == 7 && !parse_number("DEPTH", words[6], kSlotCount, &depth, out))) {
        return UMKA_KABI_EINVAL;
    }
    if (depth == 0) {
        static constexpr char kDepth[] = "blk: DEPTH must be 1 or more\n";
        out.add(kDepth, sizeof kDepth - 1);
        return UMKA_KABI_EINVAL;
    }
    Device device{};
    if (Status opened = open_device(binding, words[2], &device, out); opened.is_error()) {
        return opened;
    }
    const block::BlockGeometry& geometry = device.geometry;
    uint64_t limit = geometry.max_request_sectors < kBufferSectors ? geometry.max_request_sectors
                                                                   : kBufferSectors;
    if (limit > geometry.sector_count) limit = geometry.sector_count;
    LineText<128> refusal;
    refusal.add("blk: ").add(device.name).add(": ");
    if (sectors == 0 || sectors > limit || sectors % block_sectors(device) != 0 || requests == 0) {
        refusal.add("SECTORS must be 1 to ").number(limit).add(" in multiples of ");
        out.line(refusal.number(block_sectors(device)).add(", REQUESTS 1 to 1000000"));
        return UMKA_KABI_ERANGE;
    }
    if (writing && geometry.read_only) return report(out, device.name, UMKA_KABI_EROFS);
    services::ClockRef clock;
    if (kabi::bind_required(binding, kClock, &clock).is_error()) {
        return report(out, "clock", UMKA_KABI_ENODEV);
    }
    uint32_t slots = slots_for(device, uint32_t(sectors));
    if (slots > depth) slots = uint32_t(depth);
    if (writing) {
        // Every request writes its slot's part of the buffer: the seed-0 pattern.
        FillPattern pattern(0);
        State& state = state_of(binding);
        pattern.fill(reinterpret_cast<uint8_t*>(uintptr_t(state.dma_cpu_address)),
                     slots * sectors * kSectorBytes / 8);
    }
    TransferPlan plan{};
    plan.operation = writing ? block::BlockOperation::Write : block::BlockOperation::Read;
    plan.request_sectors = uint32_t(sectors);
    plan.request_count = requests;
    plan.placement = random ? Placement::Random : Placement::Wrap;
    uint64_t start = clock.now_ns();
    if (Status ran = run_transfer(binding, device, plan, slots, out); ran.is_error()) return ran;
    uint64_t microseconds = (clock.now_ns() - start) / 1000;
    if (microseconds == 0) microseconds = 1;
    // At most 10^6 requests of 512 sectors: bytes * 10^7 stays below 2^64.
    uint64_t bytes = requests * sectors * kSectorBytes;
    LineText<160> line;
    line.add(device.name).add(" ").add(words[3]).add(" ").number(sectors);
    line.add(" sectors x ").number(requests).add(" requests: ").number(microseconds).add(" us, ");
    add_tenths(line, bytes * 10'000'000 / microseconds / (1024 * 1024));
    line.add(" MiB/s, ").number(requests * 1'000'000 / microseconds).add(" requests/s, ");
    out.line(line.number(slots).add(" in flight"));
    return Status::ok();
}

}  // namespace

uint8_t blk_command_precedence() {
    return 128;  // an ordinary module's set (console_command.kabi)
}

Status describe_blk_command(char* output, uint64_t capacity, uint64_t* written) {
    Output out(output, capacity);
    out.add(kDescription, sizeof kDescription - 1);
    *written = out.length();
    return out.truncated() ? Status(UMKA_KABI_ENOSPC) : Status::ok();
}

Status blk_command(const UmkaModuleBinding* binding, const char* const* words, uint32_t count,
                   char* output, uint64_t capacity, uint64_t* written) {
    if (!same_word(words[0], "blk")) return UMKA_KABI_ENOENT;
    Output out(output, capacity);
    State& state = state_of(binding);
    Status status = Status::ok();
    uint32_t idle = 0;
    if (!__atomic_compare_exchange_n(&state.command_running, &idle, 1u, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED)) {
        static constexpr char kBusy[] = "blk: another blk command is running\n";
        out.add(kBusy, sizeof kBusy - 1);
        status = UMKA_KABI_EBUSY;
    } else {
        uint64_t left = __atomic_load_n(&state.in_flight, __ATOMIC_ACQUIRE);
        if (count > 1 && left != 0) {
            // A timed-out request may still write into the buffer: nothing reuses it yet.
            LineText<128> line;
            uint32_t requests = 0;  // no popcount: it is a libgcc call without -mpopcnt
            for (; left != 0; left &= left - 1) ++requests;
            line.add("blk: ").number(requests);
            out.line(line.add(" timed-out requests still in flight"));
            status = UMKA_KABI_EBUSY;
        } else if (count == 1) {
            status = list_devices(binding, out);
        } else if (count == 5 && same_word(words[1], "sha256")) {
            status = hash_or_fill(binding, words, false, out);
        } else if (count == 6 && same_word(words[1], "fill")) {
            status = hash_or_fill(binding, words, true, out);
        } else if ((count == 6 || count == 7) && same_word(words[1], "bench")) {
            status = bench(binding, words, count, out);
        } else {
            status = usage(out);
        }
        __atomic_store_n(&state.command_running, 0u, __ATOMIC_RELEASE);
    }
    *written = out.length();
    if (status.is_ok() && out.truncated()) return UMKA_KABI_ENOSPC;
    return status;
}

}  // namespace umka::blk
