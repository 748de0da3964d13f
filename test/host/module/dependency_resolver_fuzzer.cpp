// libFuzzer target over the dependency resolver (nucleus/module/dependency_resolver.h): the
// input describes a bundle of up to 12 manifests (names, provides and requires drawn from
// small sets so they collide, cycle and go missing), which loads fail, and whether resolve()
// runs again after the first round. Whatever the input: next_to_load terminates, never
// hands out a module before every module provider it was resolved to has loaded, and every
// module ends with an outcome that is not Pending.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "manifest_builder.h"
#include "nucleus/module/dependency_resolver.h"
#include "test/host/fuzz_bytes.h"

namespace {

using namespace umka::modules;

using Input = umka::testing::FuzzBytes;

const char* const kNames[] = {"a", "b", "c", "d", "e", "f"};
const char* const kInterfaces[] = {"pkg.One", "pkg.Two", "pkg.Three", "kernel_services.Log",
                                   "other.Four"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Input input{data, size};
    size_t module_count = input.next() % 13;
    std::vector<std::vector<uint8_t>> bytes;
    for (size_t module = 0; module < module_count; ++module) {
        umka::test::ManifestBuilder builder(kNames[input.next() % 6], 1 + input.next() % 3);
        size_t provides = input.next() % 4;
        for (size_t entry = 0; entry < provides; ++entry)
            builder.provides(kInterfaces[input.next() % 5], 1 + input.next() % 3);
        size_t requires_count = input.next() % 4;
        for (size_t entry = 0; entry < requires_count; ++entry)
            builder.requires_(kInterfaces[input.next() % 5], 1 + input.next() % 3);
        bytes.push_back(builder.build());
    }
    umka::test::ManifestBuilder nucleus_builder("nucleus", 1);
    nucleus_builder.provides("kernel_services.Log", 1 + input.next() % 2);
    std::vector<uint8_t> nucleus_bytes = nucleus_builder.build();

    Diagnostic diagnostic;
    std::vector<ManifestView> manifests;
    for (const auto& manifest : bytes) {
        umka::Result<ManifestView> view =
            ManifestView::parse(manifest.data(), manifest.size(), diagnostic);
        if (view.is_error()) continue;  // e.g. an interface listed twice: refused by parse
        manifests.push_back(view.value());
    }
    umka::Result<ManifestView> nucleus =
        ManifestView::parse(nucleus_bytes.data(), nucleus_bytes.size(), diagnostic);
    if (nucleus.is_error()) abort();

    // Sometimes too small, so add() refuses with ENOSPC.
    size_t capacity = module_count - (input.next() % 4 == 0 && module_count > 0 ? 1 : 0);
    std::vector<ResolverModule> modules(capacity + 1);
    std::vector<ProviderChoice> choices(capacity * 3 + 1);
    std::vector<uint16_t> order(capacity + 1);
    DependencyResolver resolver(
        ResolverStorage{modules.data(), capacity, choices.data(), choices.size(), order.data()},
        &nucleus.value());
    for (const ManifestView& manifest : manifests) {
        umka::Result<size_t> added = resolver.add(manifest, diagnostic);
        if (added.is_error() && added.error() != umka::Errno::NoSpace) abort();
    }
    if (resolver.module_count() > capacity) abort();

    for (int round = 0; round < 2; ++round) {
        resolver.resolve();
        size_t handed_out = 0;
        for (size_t next = resolver.next_to_load(); next != DependencyResolver::kNone;
             next = resolver.next_to_load()) {
            if (next >= resolver.module_count() || ++handed_out > resolver.module_count()) abort();
            // Every module provider it resolved to has loaded before it.
            for (size_t requirement = 0; requirement < resolver.manifest(next).required_count();
                 ++requirement) {
                ProviderChoice choice = resolver.provider_of(next, requirement);
                if (choice.module == ProviderChoice::kNone) abort();
                if (choice.module != ProviderChoice::kNucleus &&
                    resolver.outcome(choice.module) != ModuleOutcome::Loaded) {
                    abort();
                }
            }
            if (input.next() % 5 == 0) {
                resolver.mark_failed(next, "fuzzed load failure");
            } else {
                resolver.mark_loaded(next);
            }
        }
        if (input.next() % 2 == 0) break;
    }
    for (size_t module = 0; module < resolver.module_count(); ++module) {
        if (resolver.outcome(module) == ModuleOutcome::Pending) abort();
        if (resolver.reason(module) == nullptr) abort();
        (void)module_outcome_name(resolver.outcome(module));
    }
    return 0;
}
