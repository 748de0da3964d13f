#include "module_commands.h"

#include "umka/kabi/console_command.hpp"
#include "umka/kabi/service_directory.hpp"

namespace umka::console_service {
namespace {

namespace commands = umka::kabi::console_command;
namespace directory_api = umka::kabi::service_directory;
using kabi::Status;

constexpr char kPackage[] = "console_command";
constexpr char kInterface[] = "CommandSet";

bool is_blank(char byte) {
    return byte == ' ' || byte == '\t';
}

// What a set without CommandSet.precedence (version 1) counts as (console_command.kabi).
constexpr uint8_t kDefaultPrecedence = 128;

// The `index`-th command set (registry order), bound for this one call. ENOENT past the
// last one.
Status bind_command_set(const UmkaModuleBinding* binding, uint32_t directory, uint32_t index,
                        commands::CommandSetRef* out) {
    directory_api::DirectoryRef lookup;
    if (Status status = kabi::bind_required(binding, directory, &lookup); status.is_error()) {
        return status;
    }
    uint64_t slot = 0;
    if (Status status =
            lookup.provider(kPackage, sizeof(kPackage) - 1, kInterface, sizeof(kInterface) - 1,
                            index, kMinimumCommandSetVersion, &slot);
        status.is_error()) {
        return status;
    }
    return kabi::bind_service(reinterpret_cast<const UmkaServiceSlot*>(uintptr_t(slot)), out);
}

// The command sets' registry indexes in precedence order (stable); `count` of them.
struct SetOrder {
    uint32_t index[kMaximumCommandSets];
    uint32_t count;
};

SetOrder order_sets(const UmkaModuleBinding* binding, uint32_t directory) {
    SetOrder order{};
    uint8_t precedence[kMaximumCommandSets];
    for (uint32_t index = 0; index < kMaximumCommandSets; ++index) {
        commands::CommandSetRef set;
        Status bound = bind_command_set(binding, directory, index, &set);
        if (bound.code() == UMKA_KABI_ENOENT) break;
        if (bound.is_error()) continue;
        uint8_t rank = set.has_precedence() ? set.precedence() : kDefaultPrecedence;
        uint32_t place = order.count++;
        while (place > 0 && precedence[place - 1] > rank) {
            precedence[place] = precedence[place - 1];
            order.index[place] = order.index[place - 1];
            --place;
        }
        precedence[place] = rank;
        order.index[place] = index;
    }
    return order;
}

}  // namespace

SplitResult split_words(const char* line, uint64_t length, CommandWords& out) {
    out.length = 0;
    out.count = 0;
    uint64_t index = 0;
    for (;;) {
        while (index < length && is_blank(line[index])) ++index;
        if (index == length) break;
        if (out.count == kMaximumWords) return SplitResult::TooManyWords;
        while (index < length && !is_blank(line[index])) {
            if (out.length + 1 >= sizeof(out.bytes)) return SplitResult::TooLong;
            out.bytes[out.length++] = line[index++];
        }
        out.bytes[out.length++] = '\0';
        out.count += 1;
    }
    return out.count == 0 ? SplitResult::Empty : SplitResult::Words;
}

Status describe_module_commands(const UmkaModuleBinding* binding, uint32_t directory,
                                uint8_t* output, uint64_t capacity, uint64_t* written) {
    SetOrder order = order_sets(binding, directory);
    for (uint32_t place = 0; place < order.count; ++place) {
        commands::CommandSetRef set;
        if (bind_command_set(binding, directory, order.index[place], &set).is_error()) continue;
        uint64_t used = *written <= capacity ? *written : capacity;
        uint64_t added = 0;
        Status status = set.describe(output + used, capacity - used, &added);
        if (added > capacity - used) added = capacity - used;  // a set that overstates
        *written = used + added;
        if (status.code() == UMKA_KABI_ENOSPC) return status;
        // A description that does not end its last line would run into the next one.
        if (added != 0 && output[*written - 1] != '\n') {
            if (*written == capacity) return UMKA_KABI_ENOSPC;
            output[(*written)++] = '\n';
        }
    }
    return Status::ok();
}

Status execute_module_command(const UmkaModuleBinding* binding, uint32_t directory,
                              const CommandWords& words, uint8_t* output, uint64_t capacity,
                              uint64_t* written) {
    SetOrder order = order_sets(binding, directory);
    for (uint32_t place = 0; place < order.count; ++place) {
        commands::CommandSetRef set;
        if (bind_command_set(binding, directory, order.index[place], &set).is_error()) continue;
        *written = 0;
        Status status =
            set.execute(words.bytes, words.length, words.count, output, capacity, written);
        if (status.code() != UMKA_KABI_ENOENT) return status;
    }
    *written = 0;
    return UMKA_KABI_ENOENT;
}

}  // namespace umka::console_service
