// libFuzzer target over state import (nucleus/evolution/state_transfer.h): old and new
// state regions with fuzzed names, versions, sizes and contents, no import function or one
// that refuses, copies or fills what the input says. Whatever the input: the transfer
// either carries each state with a predecessor or refuses with a reason, never writes
// outside a target region (ASan), and a plain copy leaves exactly the old bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "nucleus/evolution/state_transfer.h"
#include "test/host/fuzz_bytes.h"

namespace {

using namespace umka::evolution;

using Input = umka::testing::FuzzBytes;

const char* const kNames[] = {"Globals", "Queue", "Table", "Globals2"};

struct Region {
    void* base;
    size_t size;
};

Region allocate(size_t size) {
    // Exactly `size` usable bytes for ASan (rounded to the 16-byte alignment the contract wants).
    size_t rounded = (size + 15) & ~size_t(15);
    return Region{std::aligned_alloc(16, rounded == 0 ? 16 : rounded), size};
}

// What the fuzzed import function does, chosen per input.
uint8_t import_behaviour = 0;

int32_t fuzzed_import(const UmkaStateImport* import) {
    switch (import_behaviour % 4) {
    case 0:
        return 0;  // accepts, keeps the zero fill
    case 1:
        return int32_t(import_behaviour);  // refuses with some errno (or a bad value)
    case 2: {                              // copies what fits
        uint64_t bytes = import->old_size < import->new_size ? import->old_size : import->new_size;
        std::memcpy(import->new_base, import->old_base, bytes);
        return 0;
    }
    default:  // fills the whole new region
        std::memset(import->new_base, 0xa5, import->new_size);
        return -1;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Input input{data, size};
    size_t source_count = input.next() % 5;
    size_t target_count = input.next() % 5;
    std::vector<StateSource> sources;
    std::vector<Region> memory;
    for (size_t index = 0; index < source_count; ++index) {
        size_t bytes = input.next() % 97;
        Region region = allocate(bytes);
        for (size_t byte = 0; byte < bytes; ++byte)
            static_cast<uint8_t*>(region.base)[byte] = input.next();
        memory.push_back(region);
        sources.push_back(StateSource{kNames[input.next() % 4], uint32_t(1 + input.next() % 3),
                                      region.base, bytes});
    }
    std::vector<StateTarget> targets;
    for (size_t index = 0; index < target_count; ++index) {
        size_t bytes = input.next() % 97;
        Region region = allocate(bytes);
        std::memset(region.base, 0x3c, bytes);
        memory.push_back(region);
        targets.push_back(StateTarget{kNames[input.next() % 4], uint32_t(1 + input.next() % 3),
                                      region.base, bytes});
    }
    import_behaviour = input.next();
    bool with_function = input.next() % 2 == 0;
    TransferMode mode = input.next() % 2 == 0 ? TransferMode::DryRun : TransferMode::Commit;
    SwapCause cause = input.next() % 2 == 0 ? SwapCause::Evolve : SwapCause::CrashRestart;

    umka::modules::Diagnostic diagnostic;
    umka::Result<size_t> carried =
        transfer_states(sources.data(), sources.size(), targets.data(), targets.size(),
                        with_function ? fuzzed_import : nullptr, mode, cause, "fuzzed", diagnostic);
    if (carried.is_error()) {
        if (diagnostic.text()[0] == '\0') abort();
    } else {
        if (carried.value() > targets.size()) abort();
        if (!with_function) {
            // A plain copy: each target with a predecessor (the first source of its name)
            // starts with exactly the old bytes.
            for (const StateTarget& target : targets) {
                for (const StateSource& source : sources) {
                    if (std::strcmp(source.name, target.name) != 0) continue;
                    if (source.size > target.size ||
                        std::memcmp(target.base, source.base, source.size) != 0) {
                        abort();
                    }
                    break;
                }
            }
        }
    }
    for (Region& region : memory) std::free(region.base);
    return 0;
}
