// Owners' descriptor tables and working directories (descriptor_tables.h).
#include "descriptor_tables.h"

namespace umka::vfs {
namespace {

constexpr uint64_t kGenerationShift = 32;

api::DescriptorTable handle_of(const State& state, uint32_t index) {
    return api::DescriptorTable{(uint64_t(state.tables[index].generation) << kGenerationShift) |
                                index};
}

// Holds `node` for a description or a working directory: its node in its file system, and
// its mount against unmounting.
Status hold_node(MountedNamespace& names, NodeId node) {
    api::FileSystemRef file_system;
    if (!names.file_system(node.mount, &file_system)) return UMKA_KABI_EIO;
    if (Status held = file_system.retain_node(names.state().mounts[node.mount].volume, node.inode);
        held.is_error()) {
        return held;
    }
    ++names.state().mounts[node.mount].open_count;
    return Status::ok();
}

void release_node(MountedNamespace& names, NodeId node) {
    api::FileSystemRef file_system;
    if (names.file_system(node.mount, &file_system)) {
        (void)file_system.release_node(names.state().mounts[node.mount].volume, node.inode);
    }
    Mount& mount = names.state().mounts[node.mount];
    if (mount.open_count != 0) --mount.open_count;
}

// One reference fewer on description `index`; the last one lets its node go.
void drop_description(MountedNamespace& names, uint32_t index) {
    Descriptor& description = names.state().descriptors[index];
    if (description.in_use == 0 || --description.in_use != 0) return;  // callers checked it
    release_node(names, NodeId{description.mount, description.inode});
    description = Descriptor{};
}

uint32_t lowest_free_descriptor(const Table& table) {
    uint32_t number = 0;
    while (number < kDescriptorsPerTable && table.descriptions[number] != 0) ++number;
    return number;
}

uint32_t free_description(const State& state) {
    uint32_t index = 0;
    while (index < kMaximumDescriptions && state.descriptors[index].in_use != 0) ++index;
    return index;
}

// Claims a free table slot: a new generation, no descriptors, the root as its directory.
Status claim_table(State& state, uint32_t* claimed) {
    for (uint32_t index = 1; index < kMaximumTables; ++index) {
        Table& table = state.tables[index];
        if (table.in_use != 0) continue;
        uint32_t generation = table.generation + 1;
        table = Table{};
        table.generation = generation == 0 ? 1 : generation;  // 0 never names a live table
        table.in_use = 1;
        *claimed = index;
        return Status::ok();
    }
    return UMKA_KABI_ENFILE;
}

// The working directory's node while the owner holds one (not the root).
bool held_directory(const Table& table, NodeId* node) {
    if (table.directory_inode == 0) return false;
    *node = NodeId{table.directory_mount, table.directory_inode};
    return true;
}

// The name `child` has in the directory `parent` (both on parent's mount), by reading the
// directory: the way getcwd works without a name kept per node.
Status name_in_directory(MountedNamespace& names, NodeId parent, uint64_t child,
                         api::DirectoryRecord* record) {
    api::FileSystemRef file_system;
    if (!names.file_system(parent.mount, &file_system)) return UMKA_KABI_EIO;
    uint32_t volume = names.state().mounts[parent.mount].volume;
    uint64_t cookie = 0;
    for (;;) {
        uint64_t next = 0;
        Status read = file_system.read_directory_record(volume, parent.inode, cookie, record,
                                                        sizeof *record, &next);
        if (read.code() == UMKA_KABI_ENOENT) return UMKA_KABI_ENOENT;  // unlinked meanwhile
        if (read.is_error()) return read;
        bool dot = record->name_length <= 2 && record->name[0] == '.' &&
                   (record->name_length == 1 || record->name[1] == '.');
        if (record->inode == child && !dot) return Status::ok();
        if (next <= cookie) return UMKA_KABI_EIO;  // a cookie that does not advance
        cookie = next;
    }
}

}  // namespace

Table* table_of(State& state, api::DescriptorTable handle) {
    uint64_t index = handle.value & ((uint64_t(1) << kGenerationShift) - 1);
    if (index >= kMaximumTables) return nullptr;
    Table& table = state.tables[index];
    if (table.in_use == 0 || handle.value != handle_of(state, uint32_t(index)).value) {
        return nullptr;
    }
    return &table;
}

Descriptor* descriptor_of(MountedNamespace& names, uint32_t number) {
    if (number >= kDescriptorsPerTable) return nullptr;
    uint32_t entry = names.table().descriptions[number];
    if (entry == 0 || entry > kMaximumDescriptions) return nullptr;
    Descriptor& description = names.state().descriptors[entry - 1];
    return description.in_use != 0 ? &description : nullptr;
}

void ensure_console_table(State& state) {
    state.tables[0].in_use = 1;
    state.tables[0].generation = 0;  // handle 0, for good
}

Status check_descriptor_room(MountedNamespace& names) {
    if (lowest_free_descriptor(names.table()) == kDescriptorsPerTable) return UMKA_KABI_EMFILE;
    if (free_description(names.state()) == kMaximumDescriptions) return UMKA_KABI_ENFILE;
    return Status::ok();
}

Status install_descriptor(MountedNamespace& names, NodeId node, uint32_t flags, uint32_t* number) {
    if (Status room = check_descriptor_room(names); room.is_error()) return room;
    State& state = names.state();
    uint32_t index = free_description(state);
    uint32_t slot = lowest_free_descriptor(names.table());
    Descriptor& description = state.descriptors[index];
    description = Descriptor{};
    description.in_use = 1;
    description.flags = flags;
    description.mount = node.mount;
    description.inode = node.inode;
    ++state.mounts[node.mount].open_count;
    names.table().descriptions[slot] = uint8_t(index + 1);
    *number = slot;
    return Status::ok();
}

Status close_descriptor(MountedNamespace& names, uint32_t number) {
    if (descriptor_of(names, number) == nullptr) return UMKA_KABI_EBADF;
    uint32_t index = names.table().descriptions[number] - 1u;
    names.table().descriptions[number] = 0;
    drop_description(names, index);
    return Status::ok();
}

Status duplicate_descriptor(MountedNamespace& names, uint32_t number, uint32_t* copy) {
    Descriptor* description = descriptor_of(names, number);
    if (description == nullptr) return UMKA_KABI_EBADF;
    uint32_t slot = lowest_free_descriptor(names.table());
    if (slot == kDescriptorsPerTable) return UMKA_KABI_EMFILE;
    ++description->in_use;
    names.table().descriptions[slot] = names.table().descriptions[number];
    *copy = slot;
    return Status::ok();
}

Status create_table(const UmkaModuleBinding* binding, api::DescriptorTable* handle) {
    State& state = state_of(binding);
    uint32_t index = 0;
    if (Status claimed = claim_table(state, &index); claimed.is_error()) return claimed;
    *handle = handle_of(state, index);
    return Status::ok();
}

Status copy_table(MountedNamespace& names, api::DescriptorTable* copy) {
    State& state = names.state();
    uint32_t index = 0;
    if (Status claimed = claim_table(state, &index); claimed.is_error()) return claimed;
    Table& target = state.tables[index];
    NodeId directory{};
    if (held_directory(names.table(), &directory)) {
        if (Status held = hold_node(names, directory); held.is_error()) {
            target.in_use = 0;
            return held;
        }
        target.directory_mount = directory.mount;
        target.directory_inode = directory.inode;
    }
    for (uint32_t number = 0; number < kDescriptorsPerTable; ++number) {
        if (descriptor_of(names, number) == nullptr) continue;
        target.descriptions[number] = names.table().descriptions[number];
        ++state.descriptors[target.descriptions[number] - 1].in_use;
    }
    *copy = handle_of(state, index);
    return Status::ok();
}

Status destroy_table(MountedNamespace& names) {
    Table& table = names.table();
    if (&table == &names.state().tables[0]) return UMKA_KABI_EBUSY;
    for (uint32_t number = 0; number < kDescriptorsPerTable; ++number) {
        if (descriptor_of(names, number) != nullptr) (void)close_descriptor(names, number);
    }
    NodeId directory{};
    if (held_directory(table, &directory)) release_node(names, directory);
    uint32_t generation = table.generation;
    table = Table{};
    table.generation = generation;  // the next life of the slot gets the next generation
    return Status::ok();
}

Status change_directory(MountedNamespace& names, const char* path, uint64_t length) {
    Resolved resolved{};
    if (Status found = resolve_existing(names, path, length, FinalLink::Follow, &resolved);
        found.is_error()) {
        return found;
    }
    if (resolved.kind != NodeKind::Directory) return UMKA_KABI_ENOTDIR;
    Table& table = names.table();
    NodeId old_directory{};
    bool had = held_directory(table, &old_directory);
    if (resolved.node == names.root()) {
        table.directory_mount = 0;
        table.directory_inode = 0;
    } else {
        if (Status held = hold_node(names, resolved.node); held.is_error()) return held;
        table.directory_mount = resolved.node.mount;
        table.directory_inode = resolved.node.inode;
    }
    if (had) release_node(names, old_directory);
    return Status::ok();
}

Status working_directory(MountedNamespace& names, char* buffer, uint64_t capacity,
                         uint64_t* length) {
    *length = 0;
    if (capacity == 0) return UMKA_KABI_ERANGE;
    // Built backwards from the end of the caller's buffer, then moved to its start.
    uint64_t start = capacity - 1;
    buffer[start] = '\0';
    // A removed directory has no ".." any more: the walk up answers ENOENT, as Linux does.
    NodeId node = names.working_directory();
    const State& state = names.state();
    for (uint32_t depth = 0; !(node == names.root()); ++depth) {
        if (depth >= kPathMaximum / 2) return UMKA_KABI_EIO;  // a loop of ".." entries
        NodeId parent{};
        if (Status up = names.parent(node, &parent); up.is_error()) return up;
        // A mounted root is named by the node it covers, in the directory above that.
        NodeId named = node;
        while (named.mount != 0 && named.inode == state.mounts[named.mount].root_inode) {
            named = NodeId{state.mounts[named.mount].covered_mount,
                           state.mounts[named.mount].covered_inode};
        }
        api::DirectoryRecord record{};
        if (Status found = name_in_directory(names, parent, named.inode, &record);
            found.is_error()) {
            return found;
        }
        if (record.name_length + 1 > start) return UMKA_KABI_ERANGE;
        start -= record.name_length;
        __builtin_memcpy(buffer + start, record.name, record.name_length);
        buffer[--start] = '/';
        node = parent;
    }
    if (start == capacity - 1) {  // the root itself
        if (start == 0) return UMKA_KABI_ERANGE;
        buffer[--start] = '/';
    }
    *length = capacity - start;
    __builtin_memmove(buffer, buffer + start, *length);
    return Status::ok();
}

}  // namespace umka::vfs
