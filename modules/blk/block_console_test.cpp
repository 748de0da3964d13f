// Host test of the block console module: the harness loads the very ELF the build signs and
// binds it to host providers — RAM disks behind block_device.BlockDevice v2 (two providers,
// three devices) whose driver thread completes requests through the module's own
// BlockCompletion, a Dma over aligned_alloc memory, Threads wait queues over a condition
// variable, and a Directory over the harness's registry. Hashes are checked against
// libsodium's SHA-256 and the fill pattern against a reference xorshift written here.
#include <gtest/gtest.h>
#include <sodium.h>

#include <regex>
#include <set>
#include <string>

#include "block_console_test_fakes.h"

namespace {

using umka::blk_test::BlockConsole;
using umka::blk_test::RamDisk;

// The documented pattern, written independently of umka/fill_pattern.h.
std::vector<uint8_t> reference_pattern(uint64_t seed, size_t bytes) {
    std::vector<uint8_t> out(bytes);
    uint64_t x = seed ^ 0x9E3779B97F4A7C15ull;
    if (x == 0) x = 1;
    for (size_t word = 0; word < bytes / 8; ++word) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for (int byte = 0; byte < 8; ++byte) out[word * 8 + byte] = uint8_t(x >> (8 * byte));
    }
    return out;
}

std::string sodium_sha256(const uint8_t* data, size_t length) {
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, data, length);
    static const char kDigits[] = "0123456789abcdef";
    std::string text;
    for (unsigned char byte : digest) {
        text += kDigits[byte >> 4];
        text += kDigits[byte & 15];
    }
    return text;
}

TEST_F(BlockConsole, ListsEveryDeviceOfEveryProviderInOrder) {
    int32_t status = -1;
    EXPECT_EQ(run("blk", &status),
              "vda 2048 512 64 ramdisk@0 rw\n"
              "vdb 4096 512 16 ramdisk@1 rw\n"
              "vdc 1024 4096 4 provider1:0 ro\n"
              "3 block devices\n");
    EXPECT_EQ(status, UMKA_KABI_OK);
}

TEST_F(BlockConsole, SaysSoWhenThereIsNoDevice) {
    world_.directory.list("block_device", "BlockDevice", {});
    int32_t status = -1;
    EXPECT_EQ(run("blk", &status), "no block devices\n");
    EXPECT_EQ(status, UMKA_KABI_OK);
}

TEST_F(BlockConsole, LeavesOtherCommandsToOtherSets) {
    int32_t status = 0;
    EXPECT_EQ(run("pci", &status), "");
    EXPECT_EQ(status, UMKA_KABI_ENOENT);
}

// Once the directory answers own_provision, every request names this module's
// BlockCompletion, so it completes here even when another consumer's is listed first.
TEST_F(BlockConsole, RoutesItsRequestsToItsOwnCompletion) {
    world_.directory.set_caller("block_console");
    int32_t status = -1;
    std::string output = run("blk fill vda 8 100 7", &status);
    ASSERT_EQ(status, UMKA_KABI_OK) << output;
    EXPECT_GT(world_.driver(0).requests(), 0u);
    EXPECT_EQ(world_.driver(0).routed(), world_.driver(0).requests() + 1) << "data and flush";
    RamDisk& disk = world_.driver(0).disk(0);
    std::vector<uint8_t> written(disk.bytes.begin() + 8 * 512, disk.bytes.begin() + 108 * 512);
    EXPECT_EQ(written, reference_pattern(7, 100 * 512));
}

TEST_F(BlockConsole, FillWritesThePatternFlushesAndPrintsItsHash) {
    int32_t status = -1;
    std::string output = run("blk fill vda 8 100 7", &status);
    ASSERT_EQ(status, UMKA_KABI_OK) << output;
    RamDisk& disk = world_.driver(0).disk(0);
    std::vector<uint8_t> expected = reference_pattern(7, 100 * 512);
    std::vector<uint8_t> written(disk.bytes.begin() + 8 * 512, disk.bytes.begin() + 108 * 512);
    EXPECT_EQ(written, expected);
    // Nothing outside the range was touched.
    for (size_t index = 0; index < 8 * 512; ++index) ASSERT_EQ(disk.bytes[index], 0) << index;
    for (size_t index = 108 * 512; index < disk.bytes.size(); ++index) {
        ASSERT_EQ(disk.bytes[index], 0) << index;
    }
    EXPECT_EQ(output, "vda 8+100 filled seed 7 sha256 " +
                          sodium_sha256(expected.data(), expected.size()) + "\n");
    EXPECT_EQ(disk.flushes, 1u);
    // Requests of 32 sectors (vda's max_request_sectors), several in flight.
    EXPECT_GT(world_.driver(0).most_in_flight(), 1u);
    // What `blk sha256` then reads back is the same hash.
    EXPECT_EQ(run("blk sha256 vda 8 100", &status),
              "vda 8+100 sha256 " + sodium_sha256(expected.data(), expected.size()) + "\n");
}

TEST_F(BlockConsole, Sha256OfARangeEqualsLibsodiumsHashOfTheDisk) {
    RamDisk& disk = world_.driver(0).disk(1);
    randombytes_buf(disk.bytes.data(), disk.bytes.size());
    int32_t status = -1;
    EXPECT_EQ(run("blk sha256 vdb 0 64", &status),
              "vdb 0+64 sha256 " + sodium_sha256(disk.bytes.data(), 64 * 512) + "\n");
    EXPECT_EQ(status, UMKA_KABI_OK);
    // The whole disk: 2 MiB through the 256 KiB buffer, slots reused many times.
    EXPECT_EQ(run("blk sha256 vdb 0 4096", &status),
              "vdb 0+4096 sha256 " + sodium_sha256(disk.bytes.data(), disk.bytes.size()) + "\n");
    EXPECT_EQ(status, UMKA_KABI_OK);
    EXPECT_LE(world_.driver(0).most_in_flight(), 16u);  // vdb's queue depth
    // A device of 4096-byte sectors, on the second provider.
    RamDisk& large = world_.driver(1).disk(0);
    randombytes_buf(large.bytes.data(), large.bytes.size());
    EXPECT_EQ(
        run("blk sha256 vdc 8 1016", &status),
        "vdc 8+1016 sha256 " + sodium_sha256(large.bytes.data() + 8 * 512, 1016 * 512) + "\n");
}

TEST_F(BlockConsole, ARequestThatFailsStopsTheCommandNamingItsSector) {
    world_.driver(0).disk(0).failing_sector = 40;
    int32_t status = -1;
    // vda takes 32 sectors a request: the one holding sector 40 starts at 32.
    EXPECT_EQ(run("blk sha256 vda 0 256", &status), "blk: vda: sector 32: EIO\n");
    EXPECT_EQ(status, UMKA_KABI_EIO);
    EXPECT_EQ(run("blk fill vda 0 256 1", &status), "blk: vda: sector 32: EIO\n");
    EXPECT_EQ(status, UMKA_KABI_EIO);
    // Every request was waited for: the next command starts.
    world_.driver(0).disk(0).failing_sector = ~uint64_t(0);
    RamDisk& disk = world_.driver(0).disk(0);
    EXPECT_EQ(run("blk sha256 vda 0 8", &status),
              "vda 0+8 sha256 " + sodium_sha256(disk.bytes.data(), 8 * 512) + "\n");
    EXPECT_EQ(status, UMKA_KABI_OK);
}

TEST_F(BlockConsole, ADeviceThatDoesNotCompleteTimesOutAndIsWaitedForLater) {
    // The host's wait queues run 100 times fast: the module's 5 s is 50 ms here.
    world_.threads.set_time_divisor(100);
    world_.driver(0).hold_completions(true);
    int32_t status = -1;
    EXPECT_EQ(run("blk sha256 vda 0 8", &status), "blk: vda: request timed out (ETIMEDOUT)\n");
    EXPECT_EQ(status, UMKA_KABI_ETIMEDOUT);
    // The late request may still write into the buffer: nothing reuses it meanwhile.
    EXPECT_EQ(run("blk sha256 vda 0 8", &status), "blk: 1 timed-out requests still in flight\n");
    EXPECT_EQ(status, UMKA_KABI_EBUSY);
    EXPECT_EQ(run("blk", &status).substr(0, 4), "vda ");  // listing needs no buffer
    world_.driver(0).hold_completions(false);             // completes late
    world_.driver(0).wait_idle();
    std::vector<uint8_t> zeros(8 * 512);
    EXPECT_EQ(run("blk sha256 vda 0 8", &status),
              "vda 0+8 sha256 " + sodium_sha256(zeros.data(), zeros.size()) + "\n");
    EXPECT_EQ(status, UMKA_KABI_OK);
    EXPECT_EQ(state().stray_completions, 0u);
}

TEST_F(BlockConsole, ACompletionOfNoRequestInFlightIsCountedAndIgnored) {
    completion_.complete(3, 0);
    completion_.complete(64, UMKA_KABI_EIO);
    completion_.complete(~uint64_t(0), 0);
    EXPECT_EQ(state().stray_completions, 3u);
    EXPECT_EQ(state().completed, 0u);
    int32_t status = -1;
    run("blk sha256 vda 0 64", &status);
    EXPECT_EQ(status, UMKA_KABI_OK);
    EXPECT_EQ(state().in_flight, 0u);
    EXPECT_EQ(state().completed, 2u);  // two requests of 32 sectors
}

TEST_F(BlockConsole, RefusesBadWordsWithTheirErrno) {
    int32_t status = -1;
    EXPECT_EQ(run("blk sha256 vda x 1", &status), "blk: FIRST: 'x' is not a number\n");
    EXPECT_EQ(status, UMKA_KABI_EINVAL);
    EXPECT_EQ(run("blk sha256 vda 0 18446744073709551616", &status),
              "blk: COUNT: '18446744073709551616' is too large\n");
    EXPECT_EQ(status, UMKA_KABI_EINVAL);
    EXPECT_EQ(run("blk sha256 vdz 0 1", &status), "blk: vdz: ENODEV\n");
    EXPECT_EQ(status, UMKA_KABI_ENODEV);
    EXPECT_EQ(run("blk sha256 sda 0 1", &status), "blk: sda: ENODEV\n");
    EXPECT_EQ(status, UMKA_KABI_ENODEV);
    EXPECT_EQ(run("blk sha256 vda 2000 49", &status),
              "blk: vda: sectors 2000+49 past the end (2048 sectors)\n");
    EXPECT_EQ(status, UMKA_KABI_ERANGE);
    EXPECT_EQ(run("blk fill vda 18446744073709551615 2 1", &status),
              "blk: vda: sectors 18446744073709551615+2 past the end (2048 sectors)\n");
    EXPECT_EQ(status, UMKA_KABI_ERANGE);
    EXPECT_EQ(run("blk sha256 vda 0 0", &status), "blk: vda: COUNT must be at least 1\n");
    EXPECT_EQ(status, UMKA_KABI_EINVAL);
    EXPECT_EQ(run("blk sha256 vdc 1 8", &status),
              "blk: vdc: FIRST and COUNT must be multiples of 8 (4096-byte sectors)\n");
    EXPECT_EQ(status, UMKA_KABI_EINVAL);
    EXPECT_EQ(run("blk fill vdc 0 8 1", &status), "blk: vdc: EROFS\n");
    EXPECT_EQ(status, UMKA_KABI_EROFS);
    const std::string usage =
        "usage: blk | blk sha256 DEV FIRST COUNT | blk fill DEV FIRST COUNT SEED | blk bench "
        "DEV read|write|randread|randwrite SECTORS REQUESTS [DEPTH]\n";
    for (const char* line :
         {"blk sha256 vda 0", "blk list", "blk bench vda copy 8 10", "blk fill vda 0 8"}) {
        EXPECT_EQ(run(line, &status), usage) << line;
        EXPECT_EQ(status, UMKA_KABI_EINVAL) << line;
    }
    EXPECT_EQ(run("blk bench vda read 8 1000001", &status),
              "blk: REQUESTS: '1000001' is too large\n");
    EXPECT_EQ(status, UMKA_KABI_EINVAL);
    EXPECT_EQ(run("blk bench vda read 33 10", &status),
              "blk: vda: SECTORS must be 1 to 32 in multiples of 1, REQUESTS 1 to 1000000\n");
    EXPECT_EQ(status, UMKA_KABI_ERANGE);
    EXPECT_EQ(run("blk bench vda read 8 10 0", &status), "blk: DEPTH must be 1 or more\n");
    EXPECT_EQ(status, UMKA_KABI_EINVAL);
    EXPECT_EQ(run("blk bench vda read 8 10 65", &status), "blk: DEPTH: '65' is too large\n");
    EXPECT_EQ(status, UMKA_KABI_EINVAL);
    EXPECT_EQ(world_.driver(0).requests(), 0u);
}

// DEPTH bounds the requests in flight: at 1 the device never holds two.
TEST_F(BlockConsole, BenchDepthBoundsTheRequestsInFlight) {
    int32_t status = -1;
    std::string output = run("blk bench vda read 8 100 1", &status);
    EXPECT_EQ(status, UMKA_KABI_OK) << output;
    EXPECT_NE(output.find(", 1 in flight\n"), std::string::npos) << output;
    EXPECT_EQ(world_.driver(0).requests(), 100u);
    EXPECT_EQ(world_.driver(0).most_in_flight(), 1u);
}

TEST_F(BlockConsole, BenchRunsSequentialRequestsAndReportsRates) {
    int32_t status = -1;
    std::string output = run("blk bench vda read 8 1000", &status);
    EXPECT_EQ(status, UMKA_KABI_OK) << output;
    EXPECT_TRUE(std::regex_match(output, std::regex("vda read 8 sectors x 1000 requests: [0-9]+ "
                                                    "us, [0-9]+\\.[0-9] MiB/s, [0-9]+ "
                                                    "requests/s, [0-9]+ in flight\n")))
        << output;
    EXPECT_EQ(world_.driver(0).requests(), 1000u);
    // 2048 sectors / 8: request 256 starts over at sector 0.
    EXPECT_EQ(world_.driver(0).highest_sector(), 2047u);
    output = run("blk bench vda write 8 300", &status);
    EXPECT_EQ(status, UMKA_KABI_OK) << output;
    std::vector<uint8_t> expected = reference_pattern(0, 8 * 512);
    RamDisk& disk = world_.driver(0).disk(0);
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), disk.bytes.begin()));
}

// randread goes where the documented stream says (xorshift64 of FillPattern(1), modulo the
// places of SECTORS sectors), so a Linux baseline can replay the same offsets.
TEST_F(BlockConsole, BenchRandomReadsGoWhereTheDocumentedStreamSays) {
    int32_t status = -1;
    std::string output = run("blk bench vda randread 8 500 4", &status);
    EXPECT_EQ(status, UMKA_KABI_OK) << output;
    EXPECT_EQ(output.rfind("vda randread 8 sectors x 500 requests: ", 0), 0u) << output;
    uint64_t state = 1 ^ 0x9E3779B97F4A7C15ull;  // written out, not taken from FillPattern
    std::vector<uint64_t> expected;
    for (int request = 0; request < 500; ++request) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        expected.push_back(state % (2048 / 8) * 8);
    }
    std::vector<uint64_t> seen = world_.driver(0).first_sectors();
    EXPECT_EQ(seen, expected);
    std::set<uint64_t> distinct(seen.begin(), seen.end());
    EXPECT_GT(distinct.size(), 200u);  // random, not a walk: most of the 256 places
}

}  // namespace
