/* The Linux side of bench/block_bench.py's random-read rows: the same reads UmkaOS's
 * `blk bench DEV randread SECTORS REQUESTS DEPTH` makes, on Debian's kernel and its
 * virtio_blk driver. Built statically on the host (cc -static) and carried in the
 * baseline's initramfs, since busybox has neither random offsets nor asynchronous I/O.
 *
 *   block_reader DEVICE REQUEST_BYTES REQUESTS DEPTH
 *
 * Request k reads REQUEST_BYTES at place (the k-th word of the fill pattern seeded with 1:
 * xorshift64 13/7/17 from 1 ^ 0x9E3779B97F4A7C15) modulo the number of places, as
 * modules/blk does. O_DIRECT, so the page cache serves nothing. DEPTH 1 is one pread at a
 * time; more keeps DEPTH requests in flight through Linux's native AIO (io_submit), which
 * is what fio's libaio engine uses. Exit status 0 only if every read returned all its
 * bytes; the first failure is printed with its errno. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { kMaximumDepth = 64 };

static uint64_t state = 1 ^ 0x9E3779B97F4A7C15ull;

static uint64_t next_place(uint64_t places) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state % places;
}

static int fail(const char* what) {
    fprintf(stderr, "block_reader: %s: %s\n", what, strerror(errno));
    return 1;
}

static int parse(const char* text, uint64_t limit, uint64_t* value) {
    char* end = NULL;
    errno = 0;
    unsigned long long parsed = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || parsed == 0 || parsed > limit) return 0;
    *value = parsed;
    return 1;
}

int main(int argc, char** argv) {
    uint64_t request_bytes = 0, requests = 0, depth = 0;
    if (argc != 5 || !parse(argv[2], 1 << 20, &request_bytes) || request_bytes % 512 != 0 ||
        !parse(argv[3], 10000000, &requests) || !parse(argv[4], kMaximumDepth, &depth)) {
        fprintf(stderr, "usage: block_reader DEVICE REQUEST_BYTES REQUESTS DEPTH (1..%d)\n",
                kMaximumDepth);
        return 2;
    }
    int device = open(argv[1], O_RDONLY | O_DIRECT);
    if (device < 0) return fail(argv[1]);
    uint64_t size = 0;
    if (ioctl(device, BLKGETSIZE64, &size) != 0) return fail("BLKGETSIZE64");
    uint64_t places = size / request_bytes;
    if (places == 0) {
        fprintf(stderr, "block_reader: %s is smaller than one request\n", argv[1]);
        return 1;
    }
    unsigned char* buffers = NULL;
    if (posix_memalign((void**)&buffers, 4096, depth * request_bytes) != 0) return fail("memory");

    if (depth == 1) {
        for (uint64_t request = 0; request < requests; ++request) {
            off_t offset = (off_t)(next_place(places) * request_bytes);
            if (pread(device, buffers, request_bytes, offset) != (ssize_t)request_bytes) {
                return fail("pread");
            }
        }
        return 0;
    }

    aio_context_t context = 0;
    if (syscall(SYS_io_setup, (long)depth, &context) != 0) return fail("io_setup");
    struct iocb blocks[kMaximumDepth];
    struct iocb* pointers[kMaximumDepth];
    struct io_event events[kMaximumDepth];
    uint64_t issued = 0, finished = 0;
    /* Submit into slot `slot`: the next place of the stream. */
#define SUBMIT(slot)                                                                 \
    do {                                                                             \
        memset(&blocks[slot], 0, sizeof blocks[slot]);                               \
        blocks[slot].aio_fildes = (uint32_t)device;                                  \
        blocks[slot].aio_lio_opcode = IOCB_CMD_PREAD;                                \
        blocks[slot].aio_buf = (uint64_t)(uintptr_t)(buffers + (slot)*request_bytes); \
        blocks[slot].aio_nbytes = request_bytes;                                     \
        blocks[slot].aio_offset = (int64_t)(next_place(places) * request_bytes);     \
        blocks[slot].aio_data = (slot);                                              \
        pointers[0] = &blocks[slot];                                                 \
        if (syscall(SYS_io_submit, context, 1L, pointers) != 1) return fail("io_submit"); \
        ++issued;                                                                    \
    } while (0)
    for (uint64_t slot = 0; slot < depth && issued < requests; ++slot) SUBMIT(slot);
    while (finished < requests) {
        long got = syscall(SYS_io_getevents, context, 1L, (long)depth, events, NULL);
        if (got < 0) {
            if (errno == EINTR) continue;
            return fail("io_getevents");
        }
        for (long index = 0; index < got; ++index) {
            if (events[index].res != (int64_t)request_bytes) {
                errno = events[index].res < 0 ? (int)-events[index].res : EIO;
                return fail("read");
            }
            ++finished;
            if (issued < requests) SUBMIT(events[index].data);
        }
    }
    return 0;
}
