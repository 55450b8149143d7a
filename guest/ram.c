/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * ram.c: RAM workloads that check their own memory, so that a lost or stale page
 * (a migration that forgot a dirty page, a bad restore) is caught by the guest.
 *
 * Every 8-byte word at guest-physical address a holds, in generation g,
 *     ram_word(a, g) = a * K1 + g * K2        (K1, K2 odd 64-bit constants)
 * Rewriting a page first checks that it still holds the previous generation, so
 * each pass verifies everything the pass before it wrote. A word from another
 * address or another generation differs from the expected one.
 */
#include "workloads.h"

#define PAGE  4096
#define K1    0x9e3779b97f4a7c15ULL
#define K2    0xc2b2ae3d27d4eb4fULL

typedef struct RamArea {
    uint64_t base;               /* guest-physical, page aligned */
    uint64_t pages;
} RamArea;

static inline uint64_t ram_word(uint64_t addr, uint64_t gen)
{
    return addr * K1 + gen * K2;
}

/*
 * Rewrite one page from generation old_gen to new_gen. Returns -1, or the index
 * of the first word that did not hold old_gen (when check is set).
 */
static int ram_rewrite_page(uint64_t addr, uint64_t old_gen, uint64_t new_gen, bool check)
{
    uint64_t *w = (uint64_t *)(uintptr_t)addr;
    uint64_t expect = ram_word(addr, old_gen), val = ram_word(addr, new_gen);

    for (int i = 0; i < PAGE / 8; i++) {
        if (check && w[i] != expect) {
            return i;
        }
        w[i] = val;
        expect += 8 * K1;
        val += 8 * K1;
    }
    return -1;
}

static int ram_check_page(uint64_t addr, uint64_t gen)
{
    const uint64_t *w = (const uint64_t *)(uintptr_t)addr;
    uint64_t expect = ram_word(addr, gen);

    for (int i = 0; i < PAGE / 8; i++, expect += 8 * K1) {
        if (w[i] != expect) {
            return i;
        }
    }
    return -1;
}

static int ram_report_fail(const char *who, uint64_t pass, uint64_t addr, int word, uint64_t gen)
{
    uint64_t a = addr + 8 * (uint64_t)word;
    uint64_t found = *(const uint64_t *)(uintptr_t)a;
    /* Name the generation the stale word belongs to, if it is one of ours. */
    uint64_t stale_gen = (found - a * K1) * 0x0ba79078168d4bafULL;   /* K2^-1 mod 2^64 */

    printf("%s: FAIL pass=%lu addr=0x%lx expected=0x%lx found=0x%lx", who, pass, a,
           ram_word(a, gen), found);
    if (stale_gen < gen) {
        printf(" (stale: generation %lu, wanted %lu)\n", stale_gen, gen);
    } else {
        printf(" (not a generation of this address)\n");
    }
    return GUEST_FAIL;
}

static bool ram_area(const char *who, const char *args, const GuestInfo *gi, RamArea *area,
                     uint64_t def_mib)
{
    bool ok = true;
    uint64_t mib = param_u64(args, "mib", def_mib, &ok);

    if (!ok || !mib || mib > (gi->ram_size - GODWIT_FREE_RAM) >> 20) {
        printf("%s: bad mib (RAM %lu MiB, free from %u MiB)\n", who, gi->ram_size >> 20,
               GODWIT_FREE_RAM >> 20);
        return false;
    }
    area->base = GODWIT_FREE_RAM;
    area->pages = mib << 8;
    return true;
}

int ram_verify_main(const char *args, const GuestInfo *gi)
{
    RamArea a;
    bool ok = true;
    uint64_t passes = param_u64(args, "passes", 100, &ok);
    uint64_t corrupt = param_u64(args, "corrupt", 0, &ok);
    uint64_t report = param_u64(args, "report", passes >= 10 ? passes / 10 : 1, &ok);

    if (!ok || !ram_area("ram-verify", args, gi, &a, 16) || !report) {
        printf("ram-verify: usage: mib=N passes=K [corrupt=P] [report=R]\n");
        return GUEST_USAGE;
    }
    printf("ram-verify: start mib=%lu passes=%lu\n", a.pages >> 8, passes);
    for (uint64_t p = 0; p < a.pages; p++) {
        ram_rewrite_page(a.base + p * PAGE, 0, 0, false);
    }
    guest_progress(0);
    for (uint64_t pass = 1; pass <= passes; pass++) {
        for (uint64_t p = 0; p < a.pages; p++) {
            uint64_t addr = a.base + p * PAGE;
            int bad = ram_rewrite_page(addr, pass - 1, pass, true);
            if (bad >= 0) {
                return ram_report_fail("ram-verify", pass, addr, bad, pass - 1);
            }
        }
        if (pass == corrupt) {        /* negative control: one word of one page goes bad */
            uint64_t *w = (uint64_t *)(uintptr_t)(a.base + (a.pages / 2) * PAGE);
            w[7] ^= 1;
            printf("ram-verify: corrupted one word at %p after pass %lu\n", (void *)&w[7], pass);
        }
        guest_progress((uint32_t)pass);
        if (pass % report == 0) {
            printf("ram-verify: pass %lu/%lu ok\n", pass, passes);
        }
    }
    for (uint64_t p = 0; p < a.pages; p++) {
        int bad = ram_check_page(a.base + p * PAGE, passes);
        if (bad >= 0) {
            return ram_report_fail("ram-verify", passes + 1, a.base + p * PAGE, bad, passes);
        }
    }
    printf("ram-verify: PASS mib=%lu passes=%lu\n", a.pages >> 8, passes);
    return GUEST_PASS;
}

/*
 * Cycle c rewrites every page from generation c - 1 to c, at most rate pages per
 * second (0: flat out), until ms milliseconds or cycles cycles have gone by.
 */
int ram_dirty_main(const char *args, const GuestInfo *gi)
{
    RamArea a;
    bool ok = true;
    uint64_t rate = param_u64(args, "rate", 0, &ok);
    uint64_t ms = param_u64(args, "ms", 1000, &ok);
    uint64_t cycles = param_u64(args, "cycles", 0, &ok);

    if (!ok || !ram_area("ram-dirty", args, gi, &a, 16) || ((rate || ms) && !gi->tsc_khz)) {
        printf("ram-dirty: usage: mib=N [rate=PAGES_PER_S] [ms=T] [cycles=C] (needs the TSC rate)\n");
        return GUEST_USAGE;
    }
    printf("ram-dirty: start mib=%lu rate=%lu ms=%lu cycles=%lu\n", a.pages >> 8, rate, ms, cycles);
    for (uint64_t p = 0; p < a.pages; p++) {
        ram_rewrite_page(a.base + p * PAGE, 0, 0, false);
    }
    uint64_t t0 = rdtsc(), written = 0, c;
    uint64_t end = ms ? t0 + ms * gi->tsc_khz : UINT64_MAX;
    uint64_t tsc_per_page = rate ? gi->tsc_khz * 1000 / rate : 0;
    bool done = false;

    for (c = 1; !done && (!cycles || c <= cycles); c++) {
        for (uint64_t p = 0; p < a.pages; p++) {
            uint64_t addr = a.base + p * PAGE;
            int bad = ram_rewrite_page(addr, c - 1, c, true);
            if (bad >= 0) {
                return ram_report_fail("ram-dirty", c, addr, bad, c - 1);
            }
            written++;
            while (tsc_per_page && rdtsc() - t0 < written * tsc_per_page) {
                __asm__ volatile("pause");
            }
        }
        guest_progress((uint32_t)c);
        done = ms && rdtsc() >= end;
    }
    c--;
    for (uint64_t p = 0; p < a.pages; p++) {
        int bad = ram_check_page(a.base + p * PAGE, c);
        if (bad >= 0) {
            return ram_report_fail("ram-dirty", c + 1, a.base + p * PAGE, bad, c);
        }
    }
    printf("ram-dirty: PASS mib=%lu cycles=%lu pages=%lu\n", a.pages >> 8, c, written);
    return GUEST_PASS;
}
