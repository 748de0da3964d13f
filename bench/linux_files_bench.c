/* The Linux side of bench/files_bench.py: the same five steps as UmkaOS's `fbench DIR FILES
 * MIB` (modules/files/file_bench.cpp), with the same system calls, on the same ext2 image:
 *   create  FILES files DIR/fNNNNNN of 100 bytes (open O_CREAT|O_EXCL|O_WRONLY, write, close);
 *   stat    each of them by path;
 *   ls -l   DIR: every getdents64 record and an lstat of each;
 *   write   DIR/big, MIB MiB in 64 KiB writes, then fsync;
 *   read    DIR/big in 64 KiB reads, after dropping the page cache (UmkaOS's ext2 keeps a
 *           2 MiB block cache, so its read comes from the disk too).
 * Prints "fbench DIR: create N files T us, stat T us, ls -l T us (N entries), write N MiB T us,
 * read T us", the line `fbench` prints. Built `cc -static` on the host for the initramfs. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SMALL_FILE_BYTES 100
#define CHUNK_BYTES (64 * 1024)

static uint64_t now_us(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
}

static void fail(const char* step, const char* path) {
    fprintf(stderr, "fbench: %s: %s: ", step, path);
    perror("");
    exit(1);
}

/* umka/fill_pattern.h: xorshift64 (13/7/17) seeded with seed ^ 0x9E3779B97F4A7C15. */
static uint64_t pattern_state;
static void pattern_seed(uint64_t seed) {
    pattern_state = seed ^ 0x9E3779B97F4A7C15ull;
    if (pattern_state == 0) pattern_state = 1;
}
static void pattern_fill(uint8_t* bytes, size_t words) {
    for (size_t word = 0; word < words; ++word) {
        pattern_state ^= pattern_state << 13;
        pattern_state ^= pattern_state >> 7;
        pattern_state ^= pattern_state << 17;
        memcpy(bytes + 8 * word, &pattern_state, 8);
    }
}

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s DIR FILES MIB\n", argv[0]);
        return 2;
    }
    const char* directory = argv[1];
    long files = atol(argv[2]);
    long mebibytes = atol(argv[3]);
    static uint8_t buffer[CHUNK_BYTES];
    uint8_t small[SMALL_FILE_BYTES + 4];
    char path[512];
    uint64_t marks[6];
    long entries = 0;
    if (mkdir(directory, 0755) != 0) fail("mkdir", directory);
    pattern_seed(2);
    pattern_fill(small, (SMALL_FILE_BYTES + 7) / 8);

    marks[0] = now_us();
    for (long index = 0; index < files; ++index) {
        snprintf(path, sizeof path, "%s/f%06ld", directory, index);
        int file = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (file < 0) fail("create", path);
        if (write(file, small, SMALL_FILE_BYTES) != SMALL_FILE_BYTES) fail("create", path);
        close(file);
    }
    marks[1] = now_us();
    for (long index = 0; index < files; ++index) {
        struct stat attributes;
        snprintf(path, sizeof path, "%s/f%06ld", directory, index);
        if (stat(path, &attributes) != 0 || attributes.st_size != SMALL_FILE_BYTES)
            fail("stat", path);
    }
    marks[2] = now_us();
    int listing = open(directory, O_RDONLY | O_DIRECTORY);
    if (listing < 0) fail("ls -l", directory);
    for (;;) {
        long got = syscall(SYS_getdents64, listing, buffer, sizeof buffer);
        if (got < 0) fail("ls -l", directory);
        if (got == 0) break;
        for (long at = 0; at < got;) {
            struct dirent64* record = (struct dirent64*)(buffer + at);
            at += record->d_reclen;
            if (strcmp(record->d_name, ".") == 0 || strcmp(record->d_name, "..") == 0) continue;
            struct stat attributes;
            snprintf(path, sizeof path, "%s/%s", directory, record->d_name);
            if (lstat(path, &attributes) != 0) fail("ls -l", path);
            ++entries;
        }
    }
    close(listing);
    marks[3] = now_us();
    snprintf(path, sizeof path, "%s/big", directory);
    int big = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (big < 0) fail("write", path);
    pattern_seed(1);
    for (long done = 0; done < mebibytes * 1024 * 1024; done += CHUNK_BYTES) {
        pattern_fill(buffer, CHUNK_BYTES / 8);
        if (write(big, buffer, CHUNK_BYTES) != CHUNK_BYTES) fail("write", path);
    }
    if (fsync(big) != 0) fail("fsync", path);
    close(big);
    marks[4] = now_us();
    sync();
    int caches = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (caches < 0 || write(caches, "3\n", 2) != 2) fail("drop caches", "/proc/sys/vm/drop_caches");
    close(caches);
    uint64_t read_start = now_us();
    big = open(path, O_RDONLY);
    if (big < 0) fail("read", path);
    long total = 0;
    for (;;) {
        long got = read(big, buffer, CHUNK_BYTES);
        if (got < 0) fail("read", path);
        if (got == 0) break;
        total += got;
    }
    close(big);
    marks[5] = now_us();
    if (total != mebibytes * 1024 * 1024) fail("read", path);
    printf(
        "fbench %s: create %ld files %llu us, stat %llu us, ls -l %llu us (%ld entries), "
        "write %ld MiB %llu us, read %llu us\n",
        directory, files, (unsigned long long)(marks[1] - marks[0]),
        (unsigned long long)(marks[2] - marks[1]), (unsigned long long)(marks[3] - marks[2]),
        entries, mebibytes, (unsigned long long)(marks[4] - marks[3]),
        (unsigned long long)(marks[5] - read_start));
    return 0;
}
