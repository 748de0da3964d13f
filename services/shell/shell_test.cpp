// The shell module through the host harness: the real shell.elf (the file that is signed
// and boots), bound to fake introspection providers, a fake EvolutionControl, a fake
// console Ctrl-C and the harness's clock. Each test runs a command through its
// console_command.CommandSet and checks the text, byte for byte where the QEMU scenarios
// and users read it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "command_line.h"
#include "module_harness.h"
#include "umka/kabi/console_command.hpp"
#include "umka/kabi/containment.hpp"
#include "umka/kabi/evolution.hpp"
#include "umka/kabi/introspection.hpp"
#include "umka/kabi/kernel_services.hpp"
#include "umka/kabi/service_directory.hpp"

namespace {

using ::testing::HasSubstr;
using umka::harness::HostModule;
using umka::harness::ModuleHarness;
namespace api = umka::kabi::introspection;
namespace control = umka::kabi::evolution;
namespace commands = umka::kabi::console_command;
namespace services = umka::kabi::kernel_services;
namespace directory = umka::kabi::service_directory;
namespace crash = umka::kabi::containment;
using umka::kabi::Status;

template <size_t N>
void set_text(uint8_t (&field)[N], const std::string& text) {
    std::memset(field, 0, N);
    std::memcpy(field, text.data(), std::min(text.size(), N - 1));
}

struct FakeMachine {
    std::vector<api::CpuRecord> cpus;
    uint32_t online = 0;
    api::MemorySummary summary{};
    std::vector<api::MemoryRegion> regions;
    std::vector<api::TimelineStep> steps;
    std::vector<std::pair<api::AcpiTable, std::vector<uint8_t>>> tables;
    bool has_rsdp = true;
    api::PowerOffMethod method = api::PowerOffMethod::AcpiS5;
    std::string notice;
    std::vector<api::InterruptBinding> interrupts;
    api::InterruptTotals totals{};

    static FakeMachine& of(void* context) { return *static_cast<FakeMachine*>(context); }
    static uint32_t cpu_count(void* context) { return uint32_t(of(context).cpus.size()); }
    static uint32_t online_cpu_count(void* context) { return of(context).online; }
    static Status cpu(void* context, uint32_t index, api::CpuRecord* record) {
        if (index >= of(context).cpus.size()) return UMKA_KABI_ENOENT;
        *record = of(context).cpus[index];
        return Status::ok();
    }
    static Status memory(void* context, api::MemorySummary* summary) {
        *summary = of(context).summary;
        return Status::ok();
    }
    static Status memory_region(void* context, uint32_t index, api::MemoryRegion* region) {
        if (index >= of(context).regions.size()) return UMKA_KABI_ENOENT;
        *region = of(context).regions[index];
        return Status::ok();
    }
    static uint32_t timeline_step_count(void* context) {
        return uint32_t(of(context).steps.size());
    }
    static Status timeline_step(void* context, uint32_t index, api::TimelineStep* step) {
        if (index >= of(context).steps.size()) return UMKA_KABI_ENOENT;
        *step = of(context).steps[index];
        return Status::ok();
    }
    static Status rendezvous(void*, api::RendezvousTiming* timing) {
        *timing = api::RendezvousTiming{};
        timing->everywhere_ran = 4;
        timing->everywhere_participants = 4;
        timing->everywhere_ns = 1200;
        timing->held_participants = 4;
        timing->held_gather_ns = 300;
        timing->held_total_ns = 900;
        return Status::ok();
    }
    static Status acpi_table(void* context, uint32_t index, api::AcpiTable* table) {
        if (!of(context).has_rsdp) return UMKA_KABI_ENODEV;
        if (index >= of(context).tables.size()) return UMKA_KABI_ENOENT;
        *table = of(context).tables[index].first;
        return Status::ok();
    }
    static Status acpi_read(void* context, uint32_t index, uint32_t offset, void* output,
                            uint64_t capacity, uint64_t* written) {
        const std::vector<uint8_t>& bytes = of(context).tables.at(index).second;
        uint64_t count =
            offset >= bytes.size() ? 0 : std::min<uint64_t>(capacity, bytes.size() - offset);
        std::memcpy(output, bytes.data() + offset, count);
        *written = count;
        return Status::ok();
    }
    static api::PowerOffMethod power_off_method(void* context) { return of(context).method; }
    static void power_off(void* context, const char* notice, uint64_t length) {
        of(context).notice.assign(notice, length);  // the host cannot power off: it returns
    }
    static Status interrupt_binding(void* context, uint32_t index, api::InterruptBinding* out) {
        if (index >= of(context).interrupts.size()) return UMKA_KABI_ENOENT;
        *out = of(context).interrupts[index];
        return Status::ok();
    }
    static void interrupt_totals(void* context, api::InterruptTotals* out) {
        *out = of(context).totals;
    }
};

struct FakeModules {
    std::vector<api::ModuleRecord> modules;
    std::vector<api::BindingRecord> bindings;
    std::string capability_owner;
    std::vector<api::CapabilityRecord> capabilities;

    static FakeModules& of(void* context) { return *static_cast<FakeModules*>(context); }
    static uint32_t module_count(void* context) { return uint32_t(of(context).modules.size()); }
    static Status module(void* context, uint32_t index, api::ModuleRecord* record) {
        if (index >= of(context).modules.size()) return UMKA_KABI_ENOENT;
        *record = of(context).modules[index];
        return Status::ok();
    }
    static uint32_t service_count(void*) { return 7; }
    static uint32_t binding_count(void* context) { return uint32_t(of(context).bindings.size()); }
    static Status binding(void* context, uint32_t index, api::BindingRecord* record) {
        if (index >= of(context).bindings.size()) return UMKA_KABI_ENOENT;
        *record = of(context).bindings[index];
        return Status::ok();
    }
    static Status capability_count(void* context, const char* name, uint64_t length,
                                   uint32_t* count) {
        if (std::string(name, length) != of(context).capability_owner) return UMKA_KABI_ENOENT;
        *count = uint32_t(of(context).capabilities.size());
        return Status::ok();
    }
    static Status capability(void* context, const char* name, uint64_t length, uint32_t index,
                             api::CapabilityRecord* record) {
        if (std::string(name, length) != of(context).capability_owner ||
            index >= of(context).capabilities.size()) {
            return UMKA_KABI_ENOENT;
        }
        *record = of(context).capabilities[index];
        return Status::ok();
    }
};

struct FakeScheduling {
    uint8_t is_running = 1;
    std::vector<api::ThreadRecord> threads;  // by slot; slot field 0xFFFFFFFF: free
    std::vector<api::RingRecord> rings;      // by slot; entries 0: free

    static FakeScheduling& of(void* context) { return *static_cast<FakeScheduling*>(context); }
    static uint8_t running(void* context) { return of(context).is_running; }
    static uint32_t thread_slot_count(void* context) {
        return uint32_t(of(context).threads.size());
    }
    static Status thread(void* context, uint32_t slot, api::ThreadRecord* record) {
        if (slot >= of(context).threads.size() || of(context).threads[slot].slot == UINT32_MAX) {
            return UMKA_KABI_ENOENT;
        }
        *record = of(context).threads[slot];
        return Status::ok();
    }
    static uint32_t ring_slot_count(void* context) { return uint32_t(of(context).rings.size()); }
    static Status ring(void* context, uint32_t slot, api::RingRecord* record) {
        if (slot >= of(context).rings.size() || of(context).rings[slot].entries == 0) {
            return UMKA_KABI_ENOENT;
        }
        *record = of(context).rings[slot];
        return Status::ok();
    }
};

struct FakeHistory {
    std::vector<api::EvolutionEntry> entries;
    api::ChainCheck check{};

    static FakeHistory& of(void* context) { return *static_cast<FakeHistory*>(context); }
    static uint32_t entry_count(void* context) { return uint32_t(of(context).entries.size()); }
    static Status entry(void* context, uint32_t index, api::EvolutionEntry* entry) {
        if (index >= of(context).entries.size()) return UMKA_KABI_ENOENT;
        *entry = of(context).entries[index];
        return Status::ok();
    }
    static Status check_chain(void* context, api::ChainCheck* check) {
        if (of(context).entries.empty()) return UMKA_KABI_ENOENT;
        *check = of(context).check;
        return Status::ok();
    }
};

// evolution.EvolutionControl: records every evolve_with; answers `detail` (refusing a
// file named in `refuse`).
struct FakeEvolution {
    struct Call {
        std::string service;
        std::string file;
        control::EvolveMode mode;
        control::EvolveFlags flags;
    };
    std::vector<Call> calls;
    control::EvolveDetail detail{};
    std::string refuse;
    int32_t status = UMKA_KABI_OK;
    uint64_t* interrupt_after = nullptr;  // counts down; sets `interrupt` at zero
    uint8_t* interrupt = nullptr;

    static FakeEvolution& of(void* context) { return *static_cast<FakeEvolution*>(context); }
    static Status evolve(void*, const char*, uint64_t, const char*, uint64_t, control::EvolveMode,
                         control::EvolveReport*) {
        ADD_FAILURE() << "the shell uses evolve_with only";
        return UMKA_KABI_EINVAL;
    }
    static Status evolve_with(void* context, const char* service, uint64_t service_length,
                              const char* file, uint64_t file_length, control::EvolveMode mode,
                              control::EvolveFlags flags, control::EvolveDetail* detail) {
        FakeEvolution& self = of(context);
        self.calls.push_back(
            {std::string(service, service_length), std::string(file, file_length), mode, flags});
        if (self.interrupt_after != nullptr && --*self.interrupt_after == 0) *self.interrupt = 1;
        if (self.status != UMKA_KABI_OK) return self.status;
        *detail = self.detail;
        if (self.calls.back().file == self.refuse) {
            detail->outcome = control::EvolveOutcome::Refused;
            detail->error = UMKA_KABI_EPERM;
            set_text(detail->reason, "module version 2 is below the running version 3");
        }
        detail->pause_ns = 1000 * self.calls.size();
        detail->gather_ns = 500 * self.calls.size();
        // Every second pause found the state changed since it was built.
        detail->pause_rebuilt_state = self.calls.size() % 2 == 0 ? 1 : 0;
        return Status::ok();
    }
};

// kernel_services.ModuleMemory backed by host memory.
struct FakeMemory {
    std::vector<std::vector<uint8_t>> regions;
    int released = 0;

    static FakeMemory& of(void* context) { return *static_cast<FakeMemory*>(context); }
    static Status allocate(void* context, uint64_t length, services::MemoryFlags,
                           services::MemoryRegion* region) {
        of(context).regions.emplace_back(length, 0);
        *region = services::MemoryRegion{of(context).regions.size()};
        return Status::ok();
    }
    static Status release(void* context, services::MemoryRegion) {
        ++of(context).released;
        return Status::ok();
    }
    static Status describe(void* context, services::MemoryRegion region,
                           services::RegionInfo* info) {
        std::vector<uint8_t>& bytes = of(context).regions.at(region.value - 1);
        *info = services::RegionInfo{};
        info->address = reinterpret_cast<uint64_t>(bytes.data());
        info->length = bytes.size();
        return Status::ok();
    }
    static Status state_region(void*, services::MemoryRegion*, uint32_t*) {
        return UMKA_KABI_ENOENT;
    }
};

// kernel_services.Threads: sleeping advances the harness's clock.
struct FakeThreads {
    umka::harness::ManualClock* clock = nullptr;
    int sleeps = 0;

    static FakeThreads& of(void* context) { return *static_cast<FakeThreads*>(context); }
    static Status join(void*, services::Thread, int32_t*) { return UMKA_KABI_EINVAL; }
    static Status sleep_ns(void* context, uint64_t duration) {
        FakeThreads& self = of(context);
        ++self.sleeps;
        self.clock->set_ns(self.clock->now_ns() + duration);
        return Status::ok();
    }
    static void yield_now(void*) {}
    static services::Thread current(void*) { return services::Thread{0}; }
    static Status spawn_thread(void*, uint64_t, uint64_t, services::ThreadPriority,
                               services::ThreadPlacement, uint32_t, const char*, uint64_t,
                               services::Thread*) {
        return UMKA_KABI_EINVAL;
    }
    static uint32_t cpu_count(void*) { return 1; }
    static uint32_t current_cpu(void*) { return 0; }
    static Status queue_create(void*, services::WaitQueue*) { return UMKA_KABI_EAGAIN; }
    static Status queue_wait(void*, services::WaitQueue, uint64_t, uint32_t, uint64_t) {
        return UMKA_KABI_EINVAL;
    }
    static Status queue_wake(void*, services::WaitQueue, uint32_t, uint32_t*) {
        return UMKA_KABI_EINVAL;
    }
    static Status queue_destroy(void*, services::WaitQueue) { return UMKA_KABI_EINVAL; }
};

// console_command.Interrupt: the flag the test sets (Ctrl-C).
struct FakeInterrupt {
    uint8_t interrupted = 0;
    int polls = 0;
    static Status poll(void* context, uint8_t* interrupted) {
        auto& self = *static_cast<FakeInterrupt*>(context);
        ++self.polls;
        *interrupted = self.interrupted;
        return Status::ok();
    }
};

struct FakeDirectory {
    ModuleHarness* harness = nullptr;
    static Status provider(void* context, const char* package, uint64_t package_length,
                           const char* interface, uint64_t interface_length, uint32_t index,
                           uint32_t minimum_version, uint64_t* slot) {
        auto& self = *static_cast<FakeDirectory*>(context);
        auto found = self.harness->registry().find_provider(
            std::string(package, package_length).c_str(),
            std::string(interface, interface_length).c_str(), index, minimum_version);
        if (found.is_error()) return UMKA_KABI_ENOENT;
        *slot = reinterpret_cast<uint64_t>(found.value());
        return Status::ok();
    }
    // The module under test hands no callback slot to a provider: it never asks.
    static Status own_provision(void*, const char*, uint64_t, const char*, uint64_t, uint64_t*) {
        return UMKA_KABI_ENOENT;
    }
};

// The crash book as containment.Crashes reports it: the rows and reports a test puts here.
struct FakeCrashes {
    std::vector<crash::ModuleCrashes> rows;
    std::vector<crash::CrashReport> reports;
    uint64_t total = 0;

    static FakeCrashes& of(void* context) { return *static_cast<FakeCrashes*>(context); }
    static Status report_count(void* context, uint32_t* kept, uint64_t* total) {
        *kept = uint32_t(of(context).reports.size());
        *total = of(context).total;
        return Status::ok();
    }
    static Status report(void* context, uint32_t index, crash::CrashReport* out) {
        if (index >= of(context).reports.size()) return UMKA_KABI_ENOENT;
        *out = of(context).reports[index];
        return Status::ok();
    }
    static uint32_t module_count(void* context) { return uint32_t(of(context).rows.size()); }
    static Status module(void* context, uint32_t index, crash::ModuleCrashes* out) {
        if (index >= of(context).rows.size()) return UMKA_KABI_ENOENT;
        *out = of(context).rows[index];
        return Status::ok();
    }
};

template <size_t N>
void put_text(uint8_t (&field)[N], const char* text) {
    std::memset(field, 0, N);
    std::memcpy(field, text, std::min(N - 1, std::strlen(text)));
}

crash::ModuleCrashes crash_row(const char* module, crash::Health health, uint32_t crashes,
                               uint32_t restarts, uint64_t last_sequence) {
    crash::ModuleCrashes row{};
    put_text(row.module, module);
    row.health = health;
    row.crashes = crashes;
    row.restarts = restarts;
    row.last_sequence = last_sequence;
    return row;
}

constexpr crash::CrashesVtable kCrashesVtable = crash::make_crashes_vtable<FakeCrashes>();
constexpr api::MachineVtable kMachineVtable = api::make_machine_vtable<FakeMachine>();
constexpr api::ModulesVtable kModulesVtable = api::make_modules_vtable<FakeModules>();
constexpr api::SchedulingVtable kSchedulingVtable = api::make_scheduling_vtable<FakeScheduling>();
constexpr api::EvolutionHistoryVtable kHistoryVtable =
    api::make_evolution_history_vtable<FakeHistory>();
constexpr control::EvolutionControlVtable kEvolutionVtable =
    control::make_evolution_control_vtable<FakeEvolution>();
constexpr services::ModuleMemoryVtable kMemoryVtable =
    services::make_module_memory_vtable<FakeMemory>();
constexpr services::ThreadsVtable kThreadsVtable = services::make_threads_vtable<FakeThreads>();
constexpr commands::InterruptVtable kInterruptVtable =
    commands::make_interrupt_vtable<FakeInterrupt>();
constexpr directory::DirectoryVtable kDirectoryVtable =
    directory::make_directory_vtable<FakeDirectory>();

class Shell : public ::testing::Test {
protected:
    void SetUp() override {
        threads_.clock = &harness_.clock();
        directory_.harness = &harness_;
        ASSERT_TRUE(
            harness_.provide("introspection", "Machine", &kMachineVtable, &machine_).is_ok());
        ASSERT_TRUE(
            harness_.provide("introspection", "Modules", &kModulesVtable, &modules_).is_ok());
        ASSERT_TRUE(
            harness_.provide("introspection", "Scheduling", &kSchedulingVtable, &scheduling_)
                .is_ok());
        ASSERT_TRUE(
            harness_.provide("introspection", "EvolutionHistory", &kHistoryVtable, &history_)
                .is_ok());
        ASSERT_TRUE(
            harness_.provide("evolution", "EvolutionControl", &kEvolutionVtable, &evolution_)
                .is_ok());
        ASSERT_TRUE(
            harness_.provide("kernel_services", "ModuleMemory", &kMemoryVtable, &memory_).is_ok());
        ASSERT_TRUE(
            harness_.provide("kernel_services", "Threads", &kThreadsVtable, &threads_).is_ok());
        ASSERT_TRUE(
            harness_.provide("service_directory", "Directory", &kDirectoryVtable, &directory_)
                .is_ok());
        ASSERT_TRUE(harness_
                        .provide("console_command", "Interrupt", &kInterruptVtable, &interrupt_,
                                 "console_service")
                        .is_ok());
        ASSERT_TRUE(harness_.provide("containment", "Crashes", &kCrashesVtable, &crashes_).is_ok());
        module_ = harness_.load(umka::harness::module_under_test());
        ASSERT_NE(module_, nullptr) << harness_.last_reason();
        ASSERT_TRUE(
            harness_.bind_provided(*module_, "console_command", "CommandSet", &set_).is_ok());
    }

    // Runs `line` (split at spaces) through CommandSet.execute; the text it wrote.
    std::string run(const std::string& line, int32_t* code = nullptr) {
        return umka::harness::run_command_line(set_, line, code);
    }

    ModuleHarness harness_;
    FakeMachine machine_;
    FakeModules modules_;
    FakeScheduling scheduling_;
    FakeHistory history_;
    FakeEvolution evolution_;
    FakeMemory memory_;
    FakeThreads threads_;
    FakeInterrupt interrupt_;
    FakeDirectory directory_;
    FakeCrashes crashes_;
    HostModule* module_ = nullptr;
    commands::CommandSetRef set_;
};

api::CpuRecord cpu(uint32_t index, uint32_t hardware_id, const char* state, uint64_t online_us) {
    api::CpuRecord record{};
    record.index = index;
    record.hardware_id = hardware_id;
    record.online_us = online_us;
    set_text(record.state, state);
    return record;
}

TEST_F(Shell, DescribesEveryCommandAndComesFirst) {
    std::vector<char> output(8192);
    uint64_t written = 0;
    ASSERT_TRUE(set_.describe(output.data(), output.size(), &written).is_ok());
    std::string text(output.data(), written);
    EXPECT_EQ(text.rfind("  cpus        one line per CPU", 0), 0u) << text;
    for (const char* name : {"mem", "timeline", "rendezvous", "mods", "services", "caps", "wait",
                             "threads", "rings", "evolve", "history", "acpidump", "poweroff"}) {
        EXPECT_THAT(text, HasSubstr(std::string("\n  ") + name + " ")) << name;
    }
    ASSERT_TRUE(set_.has_precedence());
    EXPECT_EQ(set_.precedence(), 0);
}

TEST_F(Shell, AnotherCommandIsNotItsOwn) {
    int32_t code = 0;
    EXPECT_EQ(run("load start cpu 4", &code), "");
    EXPECT_EQ(code, UMKA_KABI_ENOENT);
}

TEST_F(Shell, CpusListsEachCpuAndTheOnlineCount) {
    machine_.cpus = {cpu(0, 0, "online", 0), cpu(1, 1, "online", 5123), cpu(2, 4, "failed", 0)};
    machine_.online = 2;
    EXPECT_EQ(run("cpus"),
              "cpu  hw-id  state     online-at-us\n"
              "  0      0  online    0\n"
              "  1      1  online    5123\n"
              "  2      4  failed    0\n"
              "2 of 3 CPUs online\n");
}

TEST_F(Shell, IrqsListsEachBindingAndTheTotals) {
    api::InterruptBinding binding{};
    std::memcpy(binding.module, "virtio_blk.umod", 15);
    binding.vector = 64;
    binding.cpu = 1;
    binding.cookie = 0;
    binding.delivered = 56;
    binding.masked = 1;
    binding.latency_average_ns = 41'500;
    binding.latency_max_ns = 250'000;
    binding.unhandled = 3;
    machine_.interrupts = {binding};
    machine_.totals = api::InterruptTotals{57, 2, 0, 3};
    EXPECT_EQ(run("irqs"),
              "vector cpu module                   cookie   delivered unhandled masked latency-us "
              "avg/max\n"
              "    64   1 virtio_blk.umod               0          56         3 yes           "
              "41/250\n"
              "delivered 57, spurious 2, unhandled 3, storms 0\n");
}

TEST_F(Shell, MemShowsFramesOrdersAndTheMap) {
    machine_.summary.total_frames = 32000;
    machine_.summary.free_frames = 30000;
    machine_.summary.reserved_frames = 300;
    machine_.summary.order_count = 3;
    machine_.summary.free_blocks_by_order[0] = 1;
    machine_.summary.free_blocks_by_order[2] = 7;
    machine_.summary.region_count = 1;
    api::MemoryRegion region{};
    region.base = 0x100000;
    region.last = 0x7fdffff;
    set_text(region.kind, "usable");
    machine_.regions = {region};
    EXPECT_EQ(run("mem"),
              "frames: total 32000, free 30000, used 2000, reserved 300 (4 KiB each)\n"
              "free blocks by order: 0:1 1:0 2:7\n"
              "memory map:\n"
              "  0000000000100000-0000000007fdffff usable\n");
}

TEST_F(Shell, TimelineAndRendezvous) {
    api::TimelineStep step{};
    step.since_entry_us = 1500;
    step.step_us = 20;
    set_text(step.name, "acpi");
    machine_.steps = {step};
    EXPECT_EQ(run("timeline"),
              "      since entry      step time  step\n"
              "        1500 us          20 us  acpi\n");
    EXPECT_EQ(
        run("rendezvous"),
        "rendezvous run-everywhere: function ran on 4 of 4 CPUs, 1200 ns\n"
        "rendezvous stop-the-world: 4 CPUs held, gathered in 300 ns, released after 900 ns\n");
}

TEST_F(Shell, AcpidumpPrintsEachTableIn32ByteLines) {
    api::AcpiTable rsdp{};
    rsdp.kind = api::AcpiTableKind::Rsdp;
    rsdp.physical = 0xf5a40;
    rsdp.length = 20;
    api::AcpiTable facp{};
    facp.kind = api::AcpiTableKind::Table;
    facp.physical = 0x7fe1000;
    facp.length = 33;
    std::memcpy(facp.signature, "FACP", 4);
    std::vector<uint8_t> facp_bytes(33, 0xab);
    machine_.tables = {{rsdp, std::vector<uint8_t>(20, 0x01)}, {facp, facp_bytes}};
    std::string rsdp_hex;
    for (int byte = 0; byte < 20; ++byte) rsdp_hex += "01";
    std::string facp_hex;
    for (int byte = 0; byte < 32; ++byte) facp_hex += "ab";
    EXPECT_EQ(run("acpidump"), "rsdp at 0xf5a40 length 20\n  " + rsdp_hex +
                                   "\ntable FACP at 0x7fe1000 length 33\n  " + facp_hex +
                                   "\n  ab\nacpidump: end\n");
    machine_.has_rsdp = false;
    EXPECT_EQ(run("acpidump"), "acpidump: firmware gave no RSDP\n");
}

TEST_F(Shell, PoweroffHandsTheNucleusItsNotice) {
    run("poweroff");
    EXPECT_EQ(machine_.notice, "poweroff: entering ACPI S5\n");
    machine_.method = api::PowerOffMethod::Halt;
    run("poweroff");
    EXPECT_EQ(machine_.notice, "poweroff: firmware describes no ACPI S5 state; halting instead\n");
}

api::ModuleRecord module_record(const char* name, api::ModuleState state, const char* reason = "") {
    api::ModuleRecord record{};
    set_text(record.name, name);
    record.state = state;
    record.module_version = 1;
    record.tier = 1;
    set_text(record.transport, "ring");
    set_text(record.signature, "verified");
    set_text(record.reason, reason);
    record.text_bytes = 5000;
    record.file_bytes = 20000;
    record.load_us = 812;
    record.verify_us = 402;
    return record;
}

TEST_F(Shell, ModsShowsLoadedAndRefusedModules) {
    modules_.modules = {module_record("console_service", api::ModuleState::Loaded),
                        module_record("bad.umod", api::ModuleState::Refused, "ENOEXEC: unsigned")};
    EXPECT_EQ(run("mods"),
              "module            version tier transport text-KiB file-KiB load-us sig-us  "
              "signature  state\n"
              "console_service         1    1 ring             5       20     812    402  verified "
              "  loaded, no memory domain\n"
              "bad.umod                -    1 ring             -        -       -      -  verified "
              "  refused: ENOEXEC: unsigned\n");
    modules_.modules.clear();
    EXPECT_EQ(run("mods"), "no modules (the bundle's manifest lists none)\n");
}

TEST_F(Shell, ModsSaysWhichModulesRunInAMemoryDomain) {
    api::ModuleRecord driver = module_record("serial_console", api::ModuleState::Loaded);
    driver.tier = 0;
    set_text(driver.transport, "direct");
    driver.isolation = api::Isolation::MemoryDomain;
    modules_.modules = {driver, module_record("console_service", api::ModuleState::Loaded)};
    EXPECT_EQ(run("mods"),
              "module            version tier transport text-KiB file-KiB load-us sig-us  "
              "signature  state\n"
              "serial_console          1    0 direct           5       20     812    402  verified "
              "  loaded, memory domain\n"
              "console_service         1    1 ring             5       20     812    402  verified "
              "  loaded, no memory domain\n");
}

TEST_F(Shell, ModsNamesEachCrashedModulesCrashesAndLastFault) {
    modules_.modules = {module_record("serial_console", api::ModuleState::Loaded),
                        module_record("console_service", api::ModuleState::Loaded)};
    crashes_.rows.push_back(crash_row("serial_console", crash::Health::Running, 2, 2, 2));
    crash::CrashReport first{};
    first.sequence = 1;
    put_text(first.module, "serial_console");
    put_text(first.fault, "#PF page fault");
    crash::CrashReport second = first;
    second.sequence = 2;
    put_text(second.fault, "#GP general protection");
    crashes_.reports = {first, second};
    crashes_.total = 2;
    EXPECT_EQ(run("mods"),
              "module            version tier transport text-KiB file-KiB load-us sig-us  "
              "signature  state\n"
              "serial_console          1    1 ring             5       20     812    402  verified "
              "  loaded, no memory domain, crashed 2, restarted 2, running, last: #GP general "
              "protection\n"
              "console_service         1    1 ring             5       20     812    402  verified "
              "  loaded, no memory domain\n");
}

TEST_F(Shell, ServicesShowsEachBinding) {
    modules_.modules = {module_record("shell", api::ModuleState::Loaded)};
    api::BindingRecord binding{};
    set_text(binding.consumer, "kernel_heap");
    set_text(binding.provider, "nucleus");
    set_text(binding.package, "kernel_services");
    set_text(binding.interface, "ModuleMemory");
    binding.provider_version = 1;
    binding.required_version = 1;
    binding.transport = api::BindingTransport::Direct;
    modules_.bindings = {binding};
    EXPECT_EQ(run("services"),
              "  consumer            provider         interface\n"
              "  kernel_heap      -> nucleus          kernel_services.ModuleMemory v1 (needs >= 1) "
              "direct\n"
              "7 services published, 1 bindings\n");
}

TEST_F(Shell, CapsListsACapabilityWithItsRights) {
    modules_.capability_owner = "serial_console";
    api::CapabilityRecord record{};
    record.handle = 0x100000002;
    record.rights = 0x1 | 0x8;
    set_text(record.kind, "service-binding");
    set_text(record.package, "bus_access");
    set_text(record.interface, "PortIo");
    set_text(record.provider, "nucleus");
    modules_.capabilities = {record};
    EXPECT_EQ(
        run("caps serial_console"),
        "capabilities of serial_console (rights: c call, r read, w write, s swap, v revoke):\n"
        "  0x0000000100000002  service-binding c--s-  bus_access.PortIo from nucleus\n");
    int32_t code = 0;
    EXPECT_EQ(run("caps nosuch", &code), "caps: no loaded module named 'nosuch'\n");
    EXPECT_EQ(code, UMKA_KABI_EINVAL);
    EXPECT_EQ(run("caps", &code), "usage: caps <module>   (see 'mods' for the names)\n");
    EXPECT_EQ(code, UMKA_KABI_EINVAL);
}

TEST_F(Shell, ThreadsShowsLiveAndZombieThreads) {
    api::ThreadRecord console{};
    console.slot = 0;
    console.cpu = 0;
    console.switches = 42;
    set_text(console.name, "console");
    set_text(console.state, "running");
    console.nice = -2;
    console.virtual_runtime_us = 1234;
    console.lag_us = -15;
    api::ThreadRecord free{};
    free.slot = UINT32_MAX;
    api::ThreadRecord zombie{};
    zombie.slot = 2;
    zombie.cpu = 1;
    zombie.switches = 3;
    set_text(zombie.name, "probe-1");
    set_text(zombie.state, "zombie");
    zombie.zombie = 1;
    zombie.exit_status = 101;
    scheduling_.threads = {console, free, zombie};
    EXPECT_EQ(
        run("threads"),
        "  id  name                cpu  state     switches  nice  vruntime-us  lag-us\n"
        "   0  console               0  running         42    -2         1234     -15\n"
        "   2  probe-1               1  zombie           3     -            -       -  exit 101\n");
    scheduling_.is_running = 0;
    EXPECT_EQ(run("threads"), "threads: no scheduler policy module is loaded\n");
}

TEST_F(Shell, RingsShowsEachBindingAndItsThread) {
    api::RingRecord ring{};
    set_text(ring.consumer, "console_service");
    set_text(ring.provider, "serial_console");
    set_text(ring.package, "char_device");
    set_text(ring.interface, "CharDevice");
    set_text(ring.provider_thread, "ring-serial");
    ring.entries = 64;
    ring.submitted = 10;
    ring.completed = 10;
    ring.doorbells = 3;
    ring.state = 1;
    ring.provider_cpu = 1;
    scheduling_.rings = {api::RingRecord{}, ring};
    EXPECT_EQ(
        run("rings"),
        "1 ring binding(s)\n"
        "consumer         -> provider.interface                 entries  submitted  completed  "
        "doorbells full-waits  provider thread / cpu\n"
        "console_service  -> serial_console.char_device.CharDevice      64         10         10"
        "          3          0  ring-serial / cpu 1\n");
}

api::EvolutionEntry entry(uint64_t sequence, const char* file, uint32_t from, uint32_t to,
                          control::EvolveOutcome outcome, uint8_t downgrade) {
    api::EvolutionEntry record{};
    record.sequence = sequence;
    record.time_us = 1000 * sequence;
    set_text(record.service, "scheduler");
    set_text(record.new_module, file);
    record.old_version = from;
    record.new_version = to;
    record.outcome = api::EvolutionOutcome(uint8_t(outcome));
    record.downgrade = downgrade;
    record.hash[0] = 0xab;
    return record;
}

TEST_F(Shell, CrashesWithNoneSaysSo) {
    EXPECT_EQ(run("crashes"), "no crashes since boot\n");
}

TEST_F(Shell, CrashesShowsEachModuleThenEachReport) {
    crashes_.rows.push_back(crash_row("serial_console", crash::Health::Failed, 3, 2, 3));
    crash::CrashReport restarted{};
    restarted.sequence = 2;
    restarted.time_ns = 427'000'000;
    restarted.cpu = 1;
    restarted.instruction = 0xfffffc000009600a;
    restarted.offset = 0x100a;
    restarted.recovery_ns = 10'244'000;
    restarted.outcome = crash::Health::Running;
    put_text(restarted.module, "serial_console");
    put_text(restarted.fault, "#UD invalid opcode");
    put_text(restarted.symbol, "umka_fault_site.cold");
    crash::CrashReport failed = restarted;
    failed.sequence = 3;
    failed.recovery_ns = 0;
    failed.restart_error = UMKA_KABI_ENOEXEC;
    failed.outcome = crash::Health::Failed;
    failed.fault_address = 0x10;
    failed.error_code = 2;
    put_text(failed.fault, "#PF page fault");
    put_text(failed.symbol, "");
    crashes_.reports = {restarted, failed};
    crashes_.total = 3;
    EXPECT_EQ(run("crashes"),
              "module            health      crashes restarts last\n"
              "serial_console    failed            3        2 #3\n"
              "crash reports: 2 kept of 3\n"
              "#2 at 427 ms on cpu 1: #UD invalid opcode in serial_console rip 0xfffffc000009600a "
              "(serial_console+0x100a, umka_fault_site.cold) cr2 0x0 error 0x0 -> running, back "
              "in 10244 us\n"
              "#3 at 427 ms on cpu 1: #PF page fault in serial_console rip 0xfffffc000009600a "
              "(serial_console+0x100a) cr2 0x10 error 0x2 -> failed, restart failed: ENOEXEC\n");
}

TEST_F(Shell, CrashesNamesAStartUpCrashAndTheRestartItEnded) {
    crashes_.rows.push_back(crash_row("serial_console", crash::Health::Failed, 2, 0, 2));
    crash::CrashReport call{};
    call.sequence = 1;
    call.time_ns = 300'000'000;
    call.instruction = 0xfffffc000000100a;
    call.offset = 0x100a;
    call.restart_error = UMKA_KABI_EIO;
    call.outcome = crash::Health::Recovering;
    put_text(call.module, "serial_console");
    put_text(call.fault, "#UD invalid opcode");
    crash::CrashReport start = call;
    start.sequence = 2;
    start.restart_error = 0;
    start.outcome = crash::Health::Failed;
    start.phase = crash::CrashPhase::StartUp;
    crashes_.reports = {call, start};
    crashes_.total = 2;
    EXPECT_EQ(run("crashes"),
              "module            health      crashes restarts last\n"
              "serial_console    failed            2        0 #2\n"
              "crash reports: 2 kept of 2\n"
              "#1 at 300 ms on cpu 0: #UD invalid opcode in serial_console rip 0xfffffc000000100a "
              "(serial_console+0x100a) cr2 0x0 error 0x0 -> its restart crashed in start-up\n"
              "#2 at 300 ms on cpu 0: #UD invalid opcode in the start-up of serial_console rip "
              "0xfffffc000000100a (serial_console+0x100a) cr2 0x0 error 0x0 -> failed\n");
}

TEST_F(Shell, CrashesNamesACrashInAModuleThread) {
    crashes_.rows.push_back(crash_row("workload", crash::Health::Running, 1, 1, 1));
    crash::CrashReport report{};
    report.sequence = 1;
    report.time_ns = 388'000'000;
    report.instruction = 0xfffffc000002f000;
    report.offset = 0x1000;
    report.recovery_ns = 44'908'000;
    report.outcome = crash::Health::Running;
    report.phase = crash::CrashPhase::Thread;
    put_text(report.module, "workload");
    put_text(report.fault, "#UD invalid opcode");
    crashes_.reports = {report};
    crashes_.total = 1;
    EXPECT_THAT(run("crashes"),
                HasSubstr("#1 at 388 ms on cpu 0: #UD invalid opcode in a thread of workload rip "
                          "0xfffffc000002f000 (workload+0x1000) cr2 0x0 error 0x0 -> running, back "
                          "in 44908 us\n"));
}

TEST_F(Shell, HistoryShowsEntriesTheDowngradeMarkAndTheChain) {
    EXPECT_EQ(run("history"), "history: no evolution yet\n");
    history_.entries = {entry(1, "scheduler-v2.umod", 2, 3, control::EvolveOutcome::Swapped, 0),
                        entry(2, "scheduler.umod", 3, 2, control::EvolveOutcome::Swapped, 1)};
    history_.check.state = api::ChainState::Valid;
    history_.check.head[0] = 0xcd;
    std::string text = run("history");
    EXPECT_THAT(text,
                HasSubstr("    1       1000  scheduler        scheduler-v2.umod          2 -> 3   "
                          "swapped                     00000000   00000000   ab00000000000000\n"));
    EXPECT_THAT(
        text,
        HasSubstr(
            "    2       2000  scheduler        scheduler.umod             3 -> 2   "
            "swapped                     00000000   00000000   ab00000000000000  downgrade\n"));
    EXPECT_THAT(text,
                HasSubstr("history: 2 entries (last 2 shown), hash chain valid, head cd000000"));
    history_.check.state = api::ChainState::Broken;
    history_.check.first_bad_sequence = 2;
    EXPECT_THAT(run("history"),
                HasSubstr("history: hash chain BROKEN at entry 2: the log was altered\n"));
}

TEST_F(Shell, WaitChecksItsLimitAndSleepsInSteps) {
    int32_t code = 0;
    for (const char* bad :
         {"wait", "wait 600001", "wait 18446744073709551617", "wait 5x", "wait 1 2"}) {
        EXPECT_EQ(run(bad, &code), "usage: wait MS   (0..600000)\n") << bad;
        EXPECT_EQ(code, UMKA_KABI_EINVAL) << bad;
    }
    EXPECT_EQ(run("wait 120", &code), "waited 120 ms\n");
    EXPECT_EQ(code, UMKA_KABI_OK);
    EXPECT_EQ(threads_.sleeps, 3);  // 50 + 50 + 20 ms, asking for Ctrl-C before each
    EXPECT_EQ(interrupt_.polls, 3);
}

TEST_F(Shell, CtrlCStopsAWait) {
    interrupt_.interrupted = 1;
    int32_t code = 0;
    EXPECT_EQ(run("wait 600000", &code), "interrupted\n");
    EXPECT_EQ(code, UMKA_KABI_ECANCELED);
    EXPECT_EQ(threads_.sleeps, 0);
}

TEST_F(Shell, EvolveRefusesMalformedLinesWithUsage) {
    int32_t code = 0;
    for (const char* bad :
         {"evolve scheduler", "evolve cycle scheduler", "evolve cycle scheduler a b",
          "evolve --dry-run cycle scheduler a b 1", "evolve --force scheduler a",
          "evolve --dry-run --dry-run scheduler a", "evolve a b c"}) {
        EXPECT_THAT(run(bad, &code), HasSubstr("usage: evolve")) << bad;
        EXPECT_EQ(code, UMKA_KABI_EINVAL) << bad;
    }
    for (const char* count : {"0", "5001", "18446744073709551617", "x"}) {
        EXPECT_THAT(run(std::string("evolve cycle scheduler a b ") + count, &code),
                    HasSubstr("the count must be 1..5000"));
        EXPECT_EQ(code, UMKA_KABI_EINVAL);
    }
    EXPECT_TRUE(evolution_.calls.empty());
}

TEST_F(Shell, EvolveSwapsOnceAndReportsItWithTheTaskCheck) {
    evolution_.detail.outcome = control::EvolveOutcome::Swapped;
    evolution_.detail.phase = 3;
    evolution_.detail.old_image = control::OldImageFate::Unloaded;
    evolution_.detail.log_sequence = 4;
    std::string text = run("evolve scheduler scheduler-v2.umod");
    ASSERT_EQ(evolution_.calls.size(), 1u);
    EXPECT_EQ(evolution_.calls[0].flags, control::EvolveFlags::CompareTasks);
    EXPECT_EQ(evolution_.calls[0].mode, control::EvolveMode::Swap);
    EXPECT_THAT(text, HasSubstr("evolve scheduler -> scheduler-v2.umod\n"));
    EXPECT_THAT(text, HasSubstr("  swap      pause 1.0 us (state transfer 0.0 us: the pre-built "
                                "state was current; gathering the CPUs took 0.5 us)"));
    EXPECT_THAT(text, HasSubstr("\nevolve: swapped (log entry 4)\n"));
    EXPECT_THAT(run("evolve scheduler scheduler.umod"),
                HasSubstr("(state transfer 0.0 us: the state changed, imported again; gathering "
                          "the CPUs took 1.0 us)"));
}

TEST_F(Shell, ADowngradeNeedsTheFlagAndIsMarked) {
    evolution_.refuse = "scheduler.umod";
    evolution_.detail.old_version = 3;
    std::string refused = run("evolve scheduler scheduler.umod");
    EXPECT_THAT(refused,
                HasSubstr("evolve: refused in prepare: module version 2 is below the running "
                          "version 3 (EPERM); 'scheduler': still serving\n"));
    EXPECT_EQ(evolution_.calls[0].flags, control::EvolveFlags::CompareTasks);
    evolution_.refuse.clear();
    evolution_.detail.outcome = control::EvolveOutcome::Swapped;
    evolution_.detail.phase = 3;
    evolution_.detail.downgrade = 1;
    evolution_.detail.new_version = 2;
    evolution_.detail.log_sequence = 5;
    EXPECT_THAT(
        run("evolve --allow-downgrade scheduler scheduler.umod"),
        HasSubstr("evolve: swapped (log entry 5)\nevolve: a downgrade (module version 3 -> 2), "
                  "allowed by --allow-downgrade\n"));
    ASSERT_EQ(evolution_.calls.size(), 2u);
    EXPECT_EQ(evolution_.calls[1].flags,
              control::EvolveFlags::CompareTasks | control::EvolveFlags::AllowDowngrade);
}

std::vector<std::string> files_of(const FakeEvolution& evolution) {
    std::vector<std::string> files;
    for (const FakeEvolution::Call& call : evolution.calls) files.push_back(call.file);
    return files;
}

TEST_F(Shell, ACycleStartsFromTheFileThatIsNotRunning) {
    api::ModuleRecord running = module_record("scheduler", api::ModuleState::Loaded);
    set_text(running.file, "scheduler.umod");
    modules_.modules = {running};
    evolution_.detail.outcome = control::EvolveOutcome::Swapped;
    // A runs: A -> B -> A -> B -> A, ending on A.
    std::string text =
        run("evolve --allow-downgrade cycle scheduler scheduler.umod scheduler-v2.umod 2");
    EXPECT_EQ(files_of(evolution_),
              (std::vector<std::string>{"scheduler-v2.umod", "scheduler.umod", "scheduler-v2.umod",
                                        "scheduler.umod"}));
    EXPECT_EQ(evolution_.calls[0].flags, control::EvolveFlags::AllowDowngrade);
    EXPECT_THAT(
        text, HasSubstr("evolve cycle: 4 of 4 swaps of scheduler done (0 left an image parked)\n"));
    EXPECT_THAT(text, HasSubstr("  pause           min 1.0 us  median 3.0 us  max 4.0 us\n"));
    EXPECT_THAT(text, HasSubstr("  gathering       min 0.5 us  median 1.5 us  max 2.0 us\n"));
    EXPECT_THAT(text, HasSubstr("  the pre-built state was current in 2 of 4 pauses (the others "
                                "imported it again inside the pause)\n"));
    EXPECT_EQ(memory_.released, 1);
    // B runs (the order of the words is the user's): the first swap goes to A.
    evolution_.calls.clear();
    run("evolve cycle scheduler scheduler-v2.umod scheduler.umod 1");
    EXPECT_EQ(files_of(evolution_),
              (std::vector<std::string>{"scheduler-v2.umod", "scheduler.umod"}));
    // Neither runs: refused, nothing swapped.
    evolution_.calls.clear();
    int32_t code = 0;
    EXPECT_THAT(run("evolve cycle scheduler a.umod b.umod 1", &code),
                HasSubstr("evolve cycle: no running 'scheduler' was loaded from a.umod or b.umod"));
    EXPECT_EQ(code, UMKA_KABI_EINVAL);
    EXPECT_TRUE(evolution_.calls.empty());
}

TEST_F(Shell, ACycleStopsAtARefusalAndOnCtrlC) {
    api::ModuleRecord running = module_record("scheduler", api::ModuleState::Loaded);
    set_text(running.file, "scheduler.umod");
    modules_.modules = {running};
    evolution_.detail.outcome = control::EvolveOutcome::Swapped;
    evolution_.refuse = "scheduler.umod";
    std::string text = run("evolve cycle scheduler scheduler-v2.umod scheduler.umod 3");
    EXPECT_THAT(text,
                HasSubstr("evolve cycle: swap 2 (-> scheduler.umod) refused: module version 2 is "
                          "below the running version 3 (EPERM)\n"));
    EXPECT_THAT(text, HasSubstr("evolve cycle: 1 of 6 swaps of scheduler done"));
    evolution_.refuse.clear();
    evolution_.calls.clear();
    uint64_t countdown = 2;
    evolution_.interrupt_after = &countdown;
    evolution_.interrupt = &interrupt_.interrupted;
    int32_t code = 0;
    text = run("evolve cycle scheduler scheduler-v2.umod scheduler.umod 100", &code);
    EXPECT_EQ(code, UMKA_KABI_ECANCELED);
    EXPECT_EQ(evolution_.calls.size(), 2u);
    EXPECT_THAT(text, HasSubstr("interrupted\nevolve cycle: 2 of 200 swaps of scheduler done"));
}

}  // namespace
