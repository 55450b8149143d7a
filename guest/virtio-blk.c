/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * virtio-blk.c: block workloads of the test guest on the polling driver
 * (virtio.h, virtio-mmio.c).
 *
 * The pattern: every 8-byte little-endian word of 512-byte sector s holds
 *     (s << 32) | (seed & 0xffffffff)
 * so a sector from the wrong place or from another run (another seed) is caught,
 * and a host tool can check an image without running the guest.
 *
 * Memory: the virtqueue and request headers at GODWIT_FREE_RAM (16 KiB), data
 * buffers from BUF_BASE, one per request slot.
 *
 * Parameters (all optional): mib=N (disk area, default 16), off=MIB (start of the
 * area), seed=S, qd=Q (requests in flight, default 4), kib=K (request size, default
 * 256), evt=0 (no EVENT_IDX), irq=1 (ask for interrupts), dev=N (device index).
 */
#include "workloads.h"
#include "virtio.h"

#define SECTOR     512
#define BUF_BASE   0x800000UL
#define MiB_GUEST  (1UL << 20)

typedef struct BlkParams {
    uint64_t mib, off_mib, seed, qd, kib, evt, irq, dev, ms;
} BlkParams;

typedef struct BlkRun {
    const char *who;
    bool write, random, fill, verify;
    uint64_t start, nsect;        /* area, in sectors */
    uint32_t bs;                  /* request bytes */
    unsigned qd;
    uint64_t max_ops;             /* 0: until max_tsc */
    uint64_t max_tsc;             /* 0: until max_ops */
    uint64_t seed;
    uint64_t progress_base;       /* MiB reported before this run */
    /* results */
    uint64_t ops, bytes, tsc;
} BlkRun;

static inline uint64_t pattern_word(uint64_t sector, uint64_t seed)
{
    return (sector << 32) | (seed & 0xffffffffULL);
}

static void pattern_fill(uint64_t *buf, uint64_t sector, uint32_t bytes, uint64_t seed)
{
    for (uint32_t s = 0; s < bytes / SECTOR; s++) {
        uint64_t w = pattern_word(sector + s, seed);
        for (unsigned i = 0; i < SECTOR / 8; i++) {
            *buf++ = w;
        }
    }
}

/* -1 if the buffer holds the pattern, else the index of the first bad word. */
static int64_t pattern_check(const uint64_t *buf, uint64_t sector, uint32_t bytes, uint64_t seed)
{
    for (uint32_t s = 0; s < bytes / SECTOR; s++) {
        uint64_t w = pattern_word(sector + s, seed);
        for (unsigned i = 0; i < SECTOR / 8; i++) {
            if (buf[s * (SECTOR / 8) + i] != w) {
                return s * (SECTOR / 8) + i;
            }
        }
    }
    return -1;
}

static bool blk_params(const char *who, const char *args, BlkParams *p)
{
    bool ok = true;

    p->mib = param_u64(args, "mib", 16, &ok);
    p->off_mib = param_u64(args, "off", 0, &ok);
    p->seed = param_u64(args, "seed", 1, &ok);
    p->qd = param_u64(args, "qd", 4, &ok);
    p->kib = param_u64(args, "kib", 256, &ok);
    p->evt = param_u64(args, "evt", 1, &ok);
    p->irq = param_u64(args, "irq", 0, &ok);
    p->dev = param_u64(args, "dev", 0, &ok);
    p->ms = param_u64(args, "ms", 1000, &ok);
    if (!ok || !p->mib || !p->qd || p->qd > VBLK_MAX_SLOTS || !p->kib || p->kib > 1024 ||
        p->kib % 4 || p->dev >= GODWIT_VIRTIO_MMIO_MAX) {
        printf("%s: bad parameters '%s'\n", who, args);
        return false;
    }
    return true;
}

static bool blk_open(const char *who, VirtioBlk *d, const BlkParams *p, const GuestInfo *gi,
                     uint64_t buf_bytes)
{
    if (BUF_BASE + buf_bytes > gi->ram_size) {
        printf("%s: not enough RAM for %lu bytes of buffers\n", who, buf_bytes);
        return false;
    }
    if (vblk_init(d, p->dev, 256, p->evt, p->irq, GODWIT_FREE_RAM) < 0) {
        return false;
    }
    if (p->qd > d->nslots) {
        printf("%s: qd %lu is more than the %u slots the queue holds\n", who, p->qd, d->nslots);
        return false;
    }
    return true;
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *slot_buf(unsigned slot, uint32_t bs)
{
    return (void *)(BUF_BASE + (uintptr_t)slot * bs);
}

static int blk_complete(VirtioBlk *d, BlkRun *r, int slot, uint8_t st, const uint64_t *sect)
{
    if (st != VBLK_S_OK) {
        printf("%s: FAIL request at sector %lu returned status %u\n", r->who, sect[slot], st);
        return GUEST_FAIL;
    }
    if (r->verify) {
        const uint64_t *buf = slot_buf(slot, r->bs);
        int64_t bad = pattern_check(buf, sect[slot], r->bs, r->seed);
        if (bad >= 0) {
            uint64_t s = sect[slot] + bad / (SECTOR / 8);
            printf("%s: FAIL sector %lu word %ld: expected 0x%lx found 0x%lx\n", r->who, s,
                   bad % (SECTOR / 8), pattern_word(s, r->seed), buf[bad]);
            return GUEST_FAIL;
        }
    }
    r->ops++;
    r->bytes += r->bs;
    if (!r->random && (r->bytes & ((1 << 20) - 1)) == 0) {
        guest_progress((uint32_t)(r->progress_base + (r->bytes >> 20)));
    }
    return GUEST_PASS;
}

/* The I/O engine: keep qd requests in flight until max_ops or max_tsc is reached. */
static int blk_run(VirtioBlk *d, BlkRun *r)
{
    uint64_t sect[VBLK_MAX_SLOTS], next = 0, rng = 0x9e3779b97f4a7c15ULL ^ r->seed;
    uint32_t req_sect = r->bs / SECTOR;
    uint64_t nreq_area = r->nsect / req_sect;
    unsigned inflight = 0;
    uint64_t issued = 0, t0 = rdtsc();
    bool stop = false;

    r->ops = r->bytes = 0;
    while (inflight || !stop) {
        while (!stop && inflight < r->qd) {
            unsigned slot = 0;
            while (d->slots[slot].busy) {
                slot++;
            }
            uint64_t idx = r->random ? xorshift(&rng) % nreq_area : next++ % nreq_area;
            sect[slot] = r->start + idx * req_sect;
            if (r->fill) {
                pattern_fill(slot_buf(slot, r->bs), sect[slot], r->bs, r->seed);
            }
            vblk_submit(d, slot, r->write ? VBLK_T_OUT : VBLK_T_IN, sect[slot],
                        slot_buf(slot, r->bs), r->bs, !r->write);
            inflight++;
            issued++;
            stop = (r->max_ops && issued >= r->max_ops) ||
                   (r->max_tsc && rdtsc() - t0 >= r->max_tsc);
        }
        vblk_kick(d);
        uint8_t st;
        int slot;
        bool any = false;
        while ((slot = vblk_reap(d, &st, NULL)) >= 0) {
            any = true;
            inflight--;
            if (blk_complete(d, r, slot, st, sect) != GUEST_PASS) {
                return GUEST_FAIL;
            }
        }
        if (!any) {
            __asm__ volatile("pause");
        }
        if (r->max_tsc && !stop && rdtsc() - t0 >= r->max_tsc) {
            stop = true;
        }
    }
    r->tsc = rdtsc() - t0;
    return GUEST_PASS;
}

static bool blk_area(const char *who, VirtioBlk *d, const BlkParams *p, BlkRun *r)
{
    r->start = p->off_mib << 11;
    r->nsect = p->mib << 11;
    if (r->start > d->capacity || r->nsect > d->capacity - r->start) {
        printf("%s: area %lu+%lu MiB is beyond the disk (%lu sectors)\n", who, p->off_mib,
               p->mib, d->capacity);
        return false;
    }
    return true;
}

static int blk_pattern_common(const char *who, const char *args, const GuestInfo *gi,
                              bool do_write)
{
    BlkParams p;
    VirtioBlk d;
    BlkRun r = { .who = who, .seed = 0 };

    if (!blk_params(who, args, &p) || !blk_open(who, &d, &p, gi, p.qd * p.kib * 1024)) {
        return GUEST_USAGE;
    }
    if (!blk_area(who, &d, &p, &r)) {
        return GUEST_USAGE;
    }
    r.bs = p.kib * 1024;
    r.qd = p.qd;
    r.seed = p.seed;
    r.max_ops = r.nsect / (r.bs / SECTOR);
    printf("%s: start mib=%lu off=%lu seed=%lu qd=%lu kib=%lu capacity=%lu features=0x%lx\n",
           who, p.mib, p.off_mib, p.seed, p.qd, p.kib, d.capacity, d.features);
    if (do_write) {
        r.write = r.fill = true;
        if (blk_run(&d, &r) != GUEST_PASS) {
            return GUEST_FAIL;
        }
        if (vblk_sync(&d, VBLK_T_FLUSH, 0, 0, 0, false) != VBLK_S_OK) {
            printf("%s: FAIL flush\n", who);
            return GUEST_FAIL;
        }
        printf("%s: wrote %lu MiB\n", who, r.bytes >> 20);
        r.progress_base = p.mib;
    }
    r.write = r.fill = false;
    r.verify = true;
    if (blk_run(&d, &r) != GUEST_PASS) {
        return GUEST_FAIL;
    }
    printf("%s: PASS mib=%lu seed=%lu requests=%lu kicks=%lu kicks-saved=%lu\n", who, p.mib,
           p.seed, d.completed, d.kicks, d.kicks_saved);
    return GUEST_PASS;
}

int blk_pattern_main(const char *args, const GuestInfo *gi)
{
    return blk_pattern_common("blk-pattern", args, gi, true);
}

int blk_verify_main(const char *args, const GuestInfo *gi)
{
    return blk_pattern_common("blk-verify", args, gi, false);
}

/* Integer rates: ops or bytes over tsc cycles at tsc_khz. */
static void bench_report(const char *name, const BlkRun *r, uint64_t tsc_khz)
{
    uint64_t us = r->tsc / (tsc_khz / 1000 ? tsc_khz / 1000 : 1);
    uint64_t iops = us ? r->ops * 1000000 / us : 0;
    uint64_t mbs10 = us ? r->bytes * 10 / us : 0;       /* bytes/us = MB/s */
    uint64_t lat10 = r->ops ? us * 10 * r->qd / r->ops : 0;

    printf("blk-io-bench: %s bs=%uk qd=%u: %lu IOPS %lu.%lu MB/s lat %lu.%lu us (%lu ops in %lu ms)\n",
           name, r->bs / 1024, r->qd, iops, mbs10 / 10, mbs10 % 10, lat10 / 10, lat10 % 10,
           r->ops, us / 1000);
}

int blk_io_bench_main(const char *args, const GuestInfo *gi)
{
    BlkParams p;
    VirtioBlk d;
    BlkRun r = { .who = "blk-io-bench" };

    if (!blk_params(r.who, args, &p)) {
        return GUEST_USAGE;
    }
    if (!gi->tsc_khz) {
        printf("blk-io-bench: needs the TSC rate\n");
        return GUEST_USAGE;
    }
    if (!blk_open(r.who, &d, &p, gi, p.qd * MiB_GUEST) || !blk_area(r.who, &d, &p, &r)) {
        return GUEST_USAGE;
    }
    static const struct {
        const char *name;
        bool write, random, deep;
        uint32_t bs;
    } cases[] = {
        { "seq-write", true, false, false, 1 << 20 },
        { "seq-read", false, false, false, 1 << 20 },
        { "seq-write", true, false, true, 1 << 20 },
        { "seq-read", false, false, true, 1 << 20 },
        { "rand-read", false, true, false, 4096 },
        { "rand-read", false, true, true, 4096 },
        { "rand-write", true, true, false, 4096 },
        { "rand-write", true, true, true, 4096 },
    };
    printf("blk-io-bench: mib=%lu qd=1,%lu ms=%lu tsc=%lu kHz evt=%lu\n", p.mib, p.qd, p.ms,
           gi->tsc_khz, p.evt);
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].deep && p.qd == 1) {
            continue;
        }
        r.write = cases[i].write;
        r.random = cases[i].random;
        r.bs = cases[i].bs;
        r.qd = cases[i].deep ? p.qd : 1;
        r.max_ops = 0;
        r.max_tsc = p.ms * gi->tsc_khz;
        r.fill = r.verify = false;
        uint64_t k0 = d.kicks, s0 = d.kicks_saved;
        if (blk_run(&d, &r) != GUEST_PASS) {
            return GUEST_FAIL;
        }
        bench_report(cases[i].name, &r, gi->tsc_khz);
        printf("blk-io-bench:   kicks %lu, suppressed %lu\n", d.kicks - k0, d.kicks_saved - s0);
    }
    printf("blk-io-bench: PASS\n");
    return GUEST_PASS;
}

/* Each request type once, plus requests the device must refuse. */
int blk_selftest_main(const char *args, const GuestInfo *gi)
{
    BlkParams p;
    VirtioBlk d;
    uint8_t *buf = (uint8_t *)BUF_BASE;
    int fails = 0;

    if (!blk_params("blk-selftest", args, &p) || !blk_open("blk-selftest", &d, &p, gi, MiB_GUEST)) {
        return GUEST_USAGE;
    }
#define EXPECT(what, got, want) do { \
        uint8_t g_ = (got); \
        if (g_ != (want)) { \
            printf("blk-selftest: FAIL %s: status %u, expected %u\n", what, g_, want); \
            fails++; \
        } \
    } while (0)
    memset(buf, 0, 64);
    EXPECT("get-id", vblk_sync(&d, VBLK_T_GET_ID, 0, buf, 20, true), VBLK_S_OK);
    printf("blk-selftest: serial '%s'\n", (char *)buf);
    memset(buf, 0xab, 8192);
    EXPECT("write", vblk_sync(&d, VBLK_T_OUT, 8, buf, 8192, false), VBLK_S_OK);
    EXPECT("flush", vblk_sync(&d, VBLK_T_FLUSH, 0, 0, 0, false), VBLK_S_OK);
    struct { uint64_t sector; uint32_t num, flags; } seg = { 8, 8, 1 };
    EXPECT("write-zeroes", vblk_sync(&d, VBLK_T_WRITE_ZEROES, 0, &seg, 16, false), VBLK_S_OK);
    memset(buf, 0x55, 8192);
    EXPECT("read", vblk_sync(&d, VBLK_T_IN, 8, buf, 8192, true), VBLK_S_OK);
    for (int i = 0; i < 8192; i++) {
        if (buf[i] != (i < 4096 ? 0 : 0xab)) {
            printf("blk-selftest: FAIL byte %d after write-zeroes is 0x%x\n", i, buf[i]);
            fails++;
            break;
        }
    }
    seg = (typeof(seg)) { 16, 8, 0 };
    EXPECT("discard", vblk_sync(&d, VBLK_T_DISCARD, 0, &seg, 16, false), VBLK_S_OK);
    seg.flags = 1;
    EXPECT("discard+unmap flag", vblk_sync(&d, VBLK_T_DISCARD, 0, &seg, 16, false), VBLK_S_UNSUPP);
    EXPECT("unknown type", vblk_sync(&d, 99, 0, buf, 512, true), VBLK_S_UNSUPP);
    EXPECT("read beyond end", vblk_sync(&d, VBLK_T_IN, d.capacity, buf, 512, true), VBLK_S_IOERR);
    EXPECT("read across end", vblk_sync(&d, VBLK_T_IN, d.capacity - 1, buf, 1024, true),
           VBLK_S_IOERR);
    EXPECT("huge sector", vblk_sync(&d, VBLK_T_IN, ~0ULL >> 1, buf, 512, true), VBLK_S_IOERR);
    EXPECT("unaligned length", vblk_sync(&d, VBLK_T_IN, 0, buf, 100, true), VBLK_S_IOERR);
    EXPECT("still works", vblk_sync(&d, VBLK_T_IN, 0, buf, 512, true), VBLK_S_OK);
#undef EXPECT
    if (fails) {
        printf("blk-selftest: FAIL %d checks\n", fails);
        return GUEST_FAIL;
    }
    printf("blk-selftest: PASS\n");
    return GUEST_PASS;
}
