/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * blk-log.c: a log-structured disk and RAM workload for live migration and block
 * jobs. The disk is written as an append-only log that never overwrites a sector,
 * while RAM is rewritten at a steady rate; at the end the guest re-reads the whole
 * log and checks every record and every RAM page, so a write lost, duplicated,
 * reordered onto the wrong sector or left stale by a migration is caught.
 *
 * On-disk record n (n = 0, 1, ...), starting on a sector boundary:
 *   one header sector (little-endian):
 *     0x00 u64 magic  LOG_MAGIC          0x08 u64 seq    n
 *     0x10 u64 seed                      0x18 u64 sector where this header lies
 *     0x20 u32 len    payload bytes      0x24 u32 flags  LOG_F_END on the end marker
 *     0x28 u64 payload checksum          0x30 u64 RAM generation when written (info)
 *     0x38 u64 first sector of the area  0x40 u64 sector after the area
 *     0x48 u32 most payload sectors (kib*2)   0x4c .. 0x1f7 zero
 *     0x1f8 u64 checksum of bytes 0 .. 0x1f7
 *   then len / 512 payload sectors, word i = log_word(seed, n, i).
 * The payload length, 1 .. kib*2 sectors, is a function of (seq, seed), so the
 * layout of a log is known from its seed and kib alone (both in every header, with
 * the area, so blk-log-verify needs no parameters). Record n + 1 follows record n.
 * After the last record comes an end marker (a header with LOG_F_END, seq = the
 * record count, len 0) when the area has room for it.
 *
 * RAM: page p of the area holds, in generation g, the words
 *     ram_word(a, g) = a * R1 + g * R2 + R3        (a: guest-physical address)
 * Pass g rewrites every page from g - 1 to g, checking it still holds g - 1.
 *
 * blk-log parameters (all optional):
 *   mib=N off=MIB   the log area: N MiB (default 16) from MiB off (default 0)
 *   seed=S          tells this run's records from any other (default 1, < 2^48)
 *   kib=K           payloads are 1 .. 2K sectors (default 16, at most 64)
 *   qd=Q            records in flight (default 4, at most 32)
 *   rate=R          records per second (default 0: as fast as qd allows)
 *   ms=T            run for T ms of TSC time (default 1000; 0 needs records=)
 *   records=N       stop after N records (with ms=, whichever comes first; without
 *                   ms=, no time limit); refused if N records cannot fit
 *   ram=M           MiB of RAM rewritten, from RAM_BASE (default 8; 0: none)
 *   ram-rate=P      pages per second (default 10000; 0: as fast as possible)
 *   report=MS       a progress line "blk-log: seq=N ram-gen=G t=MS ..." every MS ms
 *                   (default 1000; 0: none); the progress port gets the record count
 *   corrupt=K       negative control: record K's header is written, its payload not,
 *                   so verification must FAIL at record K (on a fresh image)
 *   dev=N evt=0|1   virtio-mmio device index, EVENT_IDX
 * When the area is full, disk writes stop and RAM goes on until ms= runs out. The
 * guest's TSC runs on while the VM is stopped, so ms= counts paused time too; a
 * pause of over 100 ms resets the pacing instead of bursting to catch up.
 * blk-log-verify takes records=N (exactly N records, then the end marker), and
 * off=, mib=, seed=, kib= (each, when absent, taken from record 0's header).
 *
 * Memory: virtqueue at GODWIT_FREE_RAM, record buffers (one per slot) at
 * SLOT_BASE, the read window of the verifier at WIN_BASE, the RAM area at RAM_BASE.
 */
#include "workloads.h"
#include "virtio.h"

#define SECTOR       512
#define PAGE         4096
#define LOG_MAGIC    0x4452434c4f474447ULL      /* "GDGOLCRD" little-endian */
#define LOG_F_END    1u
#define MAX_KIB      64
#define MAX_QD       32
#define SLOT_BASE    0x800000UL
#define SLOT_BYTES   ((MAX_KIB * 2 + 1) * SECTOR)
#define WIN_BASE     0xc00000UL
#define WIN_SECT     2048u                      /* one 1 MiB read per refill */
#define WIN_READ     2048u                      /* sectors per read request */
#define RAM_BASE     0x1000000UL
#define R1           0x9e3779b97f4a7c15ULL
#define R2           0xd1b54a32d192ed03ULL
#define R3           0x8cb92ba72f3d8dd7ULL

typedef struct LogHeader {
    uint64_t magic, seq, seed, sector;
    uint32_t len, flags;
    uint64_t psum, ram_gen;
    uint64_t area_start, area_end;
    uint32_t max_sect, zero32;
    uint64_t zero[(SECTOR - 88) / 8];
    uint64_t hsum;
} LogHeader;

_Static_assert(sizeof(LogHeader) == SECTOR, "a log header is one sector");

typedef struct LogParams {
    uint64_t mib, off, seed, kib, qd, rate, ms, records, ram, ram_rate, report, corrupt, dev, evt;
    bool have_records, have_ms, have_seed, have_corrupt, have_mib, have_kib;
} LogParams;

typedef struct Log {
    const char *who;
    VirtioBlk d;
    uint64_t start, end;          /* area, in sectors: [start, end) */
    uint64_t seed;
    unsigned max_sect;            /* payload sectors at most */
    /* the verifier's read window */
    uint64_t win_start, win_len;
} Log;

/* --- the deterministic contents ------------------------------------------------ */

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dULL;
    x ^= x >> 33;
    return x;
}

static inline uint64_t rotl(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t checksum(const uint64_t *w, size_t nwords)
{
    uint64_t h = 0x243f6a8885a308d3ULL ^ nwords;

    for (size_t i = 0; i < nwords; i++) {
        h = rotl(h ^ w[i], 27) * 0x9e3779b97f4a7c15ULL + 0x13198a2e03707344ULL;
    }
    return mix64(h);
}

static inline uint64_t log_base(uint64_t seed, uint64_t seq)
{
    return mix64(seed * 0xa0761d6478bd642fULL ^ mix64(seq + 0x452821e638d01377ULL));
}

/* Word i of record seq's payload: a record from another place or run differs. */
static inline uint64_t log_word(uint64_t base, uint64_t i)
{
    return base + i * 0xe7037ed1a0b428dbULL;
}

static unsigned log_payload_sect(const Log *l, uint64_t seq)
{
    return 1 + (unsigned)(mix64(seq ^ (l->seed << 20) ^ 0xbe5466cf34e90c6cULL) % l->max_sect);
}

static void payload_fill(uint64_t *w, uint64_t seed, uint64_t seq, unsigned sect)
{
    uint64_t base = log_base(seed, seq);

    for (uint64_t i = 0; i < (uint64_t)sect * (SECTOR / 8); i++) {
        w[i] = log_word(base, i);
    }
}

static void header_make(LogHeader *h, const Log *l, uint64_t seq, uint64_t sector,
                        unsigned sect, uint32_t flags, uint64_t psum, uint64_t ram_gen)
{
    memset(h, 0, sizeof(*h));
    h->magic = LOG_MAGIC;
    h->seq = seq;
    h->seed = l->seed;
    h->area_start = l->start;
    h->area_end = l->end;
    h->max_sect = l->max_sect;
    h->sector = sector;
    h->len = sect * SECTOR;
    h->flags = flags;
    h->psum = psum;
    h->ram_gen = ram_gen;
    h->hsum = checksum((const uint64_t *)h, (SECTOR - 8) / 8);
}

/* --- parameters ------------------------------------------------------------------ */

static const char *const log_keys[] = {
    "mib", "off", "seed", "kib", "qd", "rate", "ms", "records", "ram", "ram-rate", "report",
    "corrupt", "dev", "evt", NULL
};

/* Every word must be key=value with a key of ours: a typo must not go unnoticed. */
static bool keys_known(const char *who, const char *args)
{
    for (const char *p = args; *p; ) {
        while (*p == ' ') {
            p++;
        }
        if (!*p) {
            break;
        }
        const char *eq = p;
        while (*eq && *eq != ' ' && *eq != '=') {
            eq++;
        }
        bool known = false;
        for (unsigned k = 0; *eq == '=' && log_keys[k]; k++) {
            size_t n = strlen(log_keys[k]);
            known |= n == (size_t)(eq - p) && !strncmp(p, log_keys[k], n);
        }
        if (!known) {
            printf("%s: unknown parameter '", who);
            while (*p && *p != ' ') {
                console_write(p++, 1);
            }
            printf("'\n");
            return false;
        }
        while (*p && *p != ' ') {
            p++;
        }
    }
    return true;
}

static bool has_key(const char *args, const char *key)
{
    bool ok = true;
    /* Two different defaults tell whether the key is there. */
    return param_u64(args, key, 0, &ok) != 0 || param_u64(args, key, 1, &ok) != 1;
}

static bool log_params(const char *who, const char *args, const GuestInfo *gi, LogParams *p,
                       bool writer)
{
    bool ok = keys_known(who, args);

    p->mib = param_u64(args, "mib", 16, &ok);
    p->off = param_u64(args, "off", 0, &ok);
    p->seed = param_u64(args, "seed", 1, &ok);
    p->kib = param_u64(args, "kib", 16, &ok);
    p->qd = param_u64(args, "qd", 4, &ok);
    p->rate = param_u64(args, "rate", 0, &ok);
    p->records = param_u64(args, "records", 0, &ok);
    p->have_records = has_key(args, "records");
    p->have_ms = has_key(args, "ms");
    p->have_seed = has_key(args, "seed");
    p->have_corrupt = has_key(args, "corrupt");
    p->have_mib = has_key(args, "mib");
    p->have_kib = has_key(args, "kib");
    p->ms = param_u64(args, "ms", p->have_records ? 0 : 1000, &ok);
    p->ram = param_u64(args, "ram", 8, &ok);
    p->ram_rate = param_u64(args, "ram-rate", 10000, &ok);
    p->report = param_u64(args, "report", 1000, &ok);
    p->corrupt = param_u64(args, "corrupt", 0, &ok);
    p->dev = param_u64(args, "dev", 0, &ok);
    p->evt = param_u64(args, "evt", 1, &ok);
    if (!ok || !p->mib || !p->kib || p->kib > MAX_KIB || !p->qd || p->qd > MAX_QD ||
        p->dev >= GODWIT_VIRTIO_MMIO_MAX || p->seed > 0xffffffffffffULL) {
        printf("%s: bad parameters '%s' (kib 1..%u, qd 1..%u)\n", who, args, MAX_KIB, MAX_QD);
        return false;
    }
    if (!writer) {
        return true;
    }
    if (!p->ms && !p->have_records) {
        printf("%s: ms=0 needs records=N (the run must end to be verified)\n", who);
        return false;
    }
    if (p->have_records && p->have_corrupt && p->corrupt >= p->records) {
        printf("%s: corrupt=%lu is beyond records=%lu: the control would test nothing\n", who,
               p->corrupt, p->records);
        return false;
    }
    if (p->ram && RAM_BASE + (p->ram << 20) > gi->ram_size) {
        printf("%s: ram=%lu MiB does not fit: RAM is %lu MiB, the area starts at %lu MiB\n",
               who, p->ram, gi->ram_size >> 20, RAM_BASE >> 20);
        return false;
    }
    if (!gi->tsc_khz && (p->ms || p->rate || (p->ram && p->ram_rate) || p->report)) {
        printf("%s: ms=, rate=, ram-rate= and report= need the TSC rate (set them to 0)\n", who);
        return false;
    }
    return true;
}

static bool log_open(Log *l, const LogParams *p, bool area_from_log)
{
    if (vblk_init(&l->d, p->dev, 256, p->evt, false, GODWIT_FREE_RAM) < 0) {
        return false;
    }
    if (p->qd > l->d.nslots) {
        printf("%s: qd %lu is more than the %u slots the queue holds\n", l->who, p->qd,
               l->d.nslots);
        return false;
    }
    l->start = p->off << 11;
    l->end = l->start + (p->mib << 11);
    if (area_from_log) {
        l->end = l->d.capacity;            /* until record 0 tells */
    }
    if (l->start >= l->d.capacity || l->end > l->d.capacity) {
        printf("%s: area %lu+%lu MiB is beyond the disk (%lu sectors)\n", l->who, p->off,
               p->mib, l->d.capacity);
        return false;
    }
    l->seed = p->seed;
    l->max_sect = p->kib * 2;
    l->win_start = l->win_len = 0;
    return true;
}

/* --- the verifier ---------------------------------------------------------------- */

/* Sectors [pos, pos + n) of the area in the read window (reading it if needed). */
static const void *log_window(Log *l, uint64_t pos, unsigned n, bool *io_ok)
{
    if (pos < l->win_start || pos + n > l->win_start + l->win_len) {
        uint64_t len = l->end - pos < WIN_SECT + MAX_KIB * 2 + 1 ? l->end - pos
                                                                 : WIN_SECT + MAX_KIB * 2 + 1;
        for (uint64_t done = 0; done < len; done += WIN_READ) {
            uint32_t k = len - done < WIN_READ ? len - done : WIN_READ;
            uint8_t st = vblk_sync(&l->d, VBLK_T_IN, pos + done,
                                   (void *)(WIN_BASE + done * SECTOR), k * SECTOR, true);
            if (st != VBLK_S_OK) {
                printf("%s: FAIL read of sector %lu returned status %u\n", l->who, pos + done, st);
                l->win_len = 0;
                *io_ok = false;
                return NULL;
            }
        }
        l->win_start = pos;
        l->win_len = len;
    }
    return (const void *)(WIN_BASE + (pos - l->win_start) * SECTOR);
}

static bool all_zero(const uint64_t *w, size_t nwords)
{
    for (size_t i = 0; i < nwords; i++) {
        if (w[i]) {
            return false;
        }
    }
    return true;
}

/*
 * Walk the log from the start of the area. expect: the record count the log must
 * hold, followed by the end marker (or the end of the area); UINT64_MAX: every
 * record up to the end marker, an all-zero header or the end of the area.
 * seed/kib/end_known false: take the seed, kib, end of the area from record 0.
 * Returns the records verified,
 * or -1 after printing "FAIL ..." about the first bad record.
 */
static int64_t log_verify(Log *l, uint64_t expect, bool seed_known, bool kib_known,
                          bool end_known, uint64_t *end_sector)
{
    uint64_t pos = l->start, seq = 0;
    bool io_ok = true;

    for (;;) {
        if (pos >= l->end) {
            if (expect != UINT64_MAX && seq != expect) {
                printf("%s: FAIL the area ends at sector %lu after %lu records, expected %lu\n",
                       l->who, pos, seq, expect);
                return -1;
            }
            break;
        }
        const LogHeader *h = log_window(l, pos, 1, &io_ok);
        if (!h) {
            return -1;
        }
        bool zero = all_zero((const uint64_t *)h, SECTOR / 8);
        bool hsum_ok = h->hsum == checksum((const uint64_t *)h, (SECTOR - 8) / 8);
        if (zero || (h->magic == LOG_MAGIC && hsum_ok && (h->flags & LOG_F_END))) {
            /* the end of the log */
            if (expect != UINT64_MAX && seq != expect) {
                printf("%s: FAIL record %lu at sector %lu: %s, expected %lu records\n", l->who,
                       seq, pos, zero ? "empty header (never written)" : "end marker", expect);
                return -1;
            }
            if (!zero && (h->seq != seq || h->sector != pos || h->len || h->seed != l->seed)) {
                printf("%s: FAIL end marker at sector %lu says seq=%lu sector=%lu len=%u "
                       "seed=%lu, expected seq=%lu sector=%lu len=0 seed=%lu\n", l->who, pos,
                       h->seq, h->sector, h->len, h->seed, seq, pos, l->seed);
                return -1;
            }
            if (zero && expect != UINT64_MAX) {
                printf("%s: FAIL no end marker at sector %lu after %lu records\n", l->who, pos,
                       seq);
                return -1;
            }
            break;
        }
        if (expect != UINT64_MAX && seq == expect) {
            printf("%s: FAIL sector %lu after the %lu records holds a record (seq=%lu), not the "
                   "end marker\n", l->who, pos, expect, h->seq);
            return -1;
        }
        if (h->magic != LOG_MAGIC || !hsum_ok) {
            printf("%s: FAIL record %lu at sector %lu: bad header (magic 0x%lx, checksum 0x%lx, "
                   "computed 0x%lx)\n", l->who, seq, pos, h->magic, h->hsum,
                   checksum((const uint64_t *)h, (SECTOR - 8) / 8));
            return -1;
        }
        if (seq == 0 && (!seed_known || !kib_known || !end_known)) {
            if (h->max_sect < 1 || h->max_sect > MAX_KIB * 2 || h->area_start != l->start ||
                h->area_end <= l->start || h->area_end > l->d.capacity) {
                printf("%s: FAIL record 0 at sector %lu: area %lu..%lu, %u sectors at most: "
                       "not a log this verifier can read\n", l->who, pos, h->area_start,
                       h->area_end, h->max_sect);
                return -1;
            }
            l->seed = seed_known ? l->seed : h->seed;
            l->max_sect = kib_known ? l->max_sect : h->max_sect;
            l->end = end_known ? l->end : h->area_end;
            seed_known = kib_known = end_known = true;
        }
        unsigned sect = log_payload_sect(l, seq);
        if (h->seq != seq || h->seed != l->seed || h->sector != pos || h->len != sect * SECTOR ||
            h->flags || h->area_start != l->start || h->area_end != l->end ||
            h->max_sect != l->max_sect) {
            printf("%s: FAIL record %lu at sector %lu: header says seq=%lu seed=%lu sector=%lu "
                   "len=%u flags=%u area=%lu..%lu kib=%u, expected seq=%lu seed=%lu sector=%lu "
                   "len=%u flags=0 area=%lu..%lu kib=%u\n", l->who, seq, pos, h->seq, h->seed,
                   h->sector, h->len, h->flags, h->area_start, h->area_end, h->max_sect / 2, seq,
                   l->seed, pos, sect * SECTOR, l->start, l->end, l->max_sect / 2);
            return -1;
        }
        if (pos + 1 + sect > l->end) {
            printf("%s: FAIL record %lu at sector %lu: its %u payload sectors cross the end of "
                   "the area\n", l->who, seq, pos, sect);
            return -1;
        }
        uint64_t psum = h->psum;
        const uint64_t *w = log_window(l, pos + 1, sect, &io_ok);
        if (!w) {
            return -1;
        }
        uint64_t base = log_base(l->seed, seq);
        for (uint64_t i = 0; i < (uint64_t)sect * (SECTOR / 8); i++) {
            if (w[i] != log_word(base, i)) {
                printf("%s: FAIL record %lu at sector %lu: payload sector %lu word %lu: "
                       "expected 0x%lx found 0x%lx\n", l->who, seq, pos, pos + 1 + i / 64,
                       i % 64, log_word(base, i), w[i]);
                return -1;
            }
        }
        if (checksum(w, (uint64_t)sect * (SECTOR / 8)) != psum) {
            printf("%s: FAIL record %lu at sector %lu: payload checksum 0x%lx in the header "
                   "does not match the payload\n", l->who, seq, pos, psum);
            return -1;
        }
        seq++;
        pos += 1 + sect;
    }
    if (end_sector) {
        *end_sector = pos;
    }
    return (int64_t)seq;
}

/* --- RAM ------------------------------------------------------------------------- */

typedef struct RamState {
    uint64_t pages;
    uint64_t gen;                 /* pass being written: pages < cursor hold gen */
    uint64_t cursor;
    uint64_t written;
} RamState;

static inline uint64_t ram_word(uint64_t a, uint64_t gen)
{
    return a * R1 + gen * R2 + R3;
}

/* -1, or the first word of the page that did not hold generation gen. */
static int ram_page(uint64_t p, uint64_t old_gen, uint64_t new_gen, bool write)
{
    uint64_t a = RAM_BASE + p * PAGE;
    uint64_t *w = (uint64_t *)(uintptr_t)a;
    uint64_t expect = ram_word(a, old_gen), val = ram_word(a, new_gen);

    for (int i = 0; i < PAGE / 8; i++, expect += 8 * R1, val += 8 * R1) {
        if (old_gen != UINT64_MAX && w[i] != expect) {
            return i;
        }
        if (write) {
            w[i] = val;
        }
    }
    return -1;
}

static int ram_fail(uint64_t p, int word, uint64_t gen)
{
    uint64_t a = RAM_BASE + p * PAGE + 8 * (uint64_t)word;
    uint64_t found = *(const uint64_t *)(uintptr_t)a;
    uint64_t inv = R2;

    for (int i = 0; i < 6; i++) {     /* R2's inverse mod 2^64 (Newton) */
        inv *= 2 - R2 * inv;
    }
    uint64_t g = (found - a * R1 - R3) * inv;
    printf("blk-log: FAIL RAM page %lu addr 0x%lx: expected generation %lu (0x%lx), found "
           "0x%lx", p, a, gen, ram_word(a, gen), found);
    if (g < gen) {
        printf(" (stale: generation %lu)\n", g);
    } else {
        printf(" (not a generation of this address)\n");
    }
    return GUEST_FAIL;
}

/* Rewrite the next n pages of the pass; false after printing a failure. */
static bool ram_step(RamState *r, uint64_t n)
{
    while (n--) {
        int bad = ram_page(r->cursor, r->gen - 1, r->gen, true);
        if (bad >= 0) {
            ram_fail(r->cursor, bad, r->gen - 1);
            return false;
        }
        r->written++;
        if (++r->cursor == r->pages) {
            r->cursor = 0;
            r->gen++;
        }
    }
    return true;
}

static bool ram_check_all(const RamState *r)
{
    for (uint64_t p = 0; p < r->pages; p++) {
        uint64_t g = p < r->cursor ? r->gen : r->gen - 1;
        int bad = ram_page(p, g, 0, false);
        if (bad >= 0) {
            ram_fail(p, bad, g);
            return false;
        }
    }
    return true;
}

/* --- the workloads --------------------------------------------------------------- */

int blk_log_main(const char *args, const GuestInfo *gi)
{
    LogParams p;
    Log l = { .who = "blk-log" };
    RamState ram = { 0 };

    if (!log_params(l.who, args, gi, &p, true) || !log_open(&l, &p, false)) {
        return GUEST_USAGE;
    }
    if (l.d.read_only) {
        printf("blk-log: the disk is read-only\n");
        return GUEST_USAGE;
    }
    if (p.have_records) {
        uint64_t need = 0;
        for (uint64_t s = 0; s < p.records; s++) {
            need += 1 + log_payload_sect(&l, s);
        }
        if (need > l.end - l.start) {
            printf("blk-log: records=%lu need %lu sectors, the area has %lu (raise mib=)\n",
                   p.records, need, l.end - l.start);
            return GUEST_USAGE;
        }
    }
    printf("blk-log: start mib=%lu off=%lu seed=%lu kib=%lu qd=%lu rate=%lu ms=%lu records=%lu "
           "ram=%lu ram-rate=%lu report=%lu tsc=%lu kHz capacity=%lu\n", p.mib, p.off, p.seed,
           p.kib, p.qd, p.rate, p.ms, p.records, p.ram, p.ram_rate, p.report, gi->tsc_khz,
           l.d.capacity);

    ram.pages = p.ram << 8;
    for (uint64_t pg = 0; pg < ram.pages; pg++) {
        ram_page(pg, UINT64_MAX, 0, true);
    }
    ram.gen = 1;

    uint64_t khz = gi->tsc_khz;
    uint64_t t0 = rdtsc();
    uint64_t end_tsc = p.ms ? t0 + p.ms * khz : UINT64_MAX;
    uint64_t rec_tsc = p.rate ? khz * 1000 / p.rate : 0;
    uint64_t page_tsc = p.ram_rate ? khz * 1000 / p.ram_rate : 0;
    uint64_t slack = khz * 100;               /* no catch-up burst after a pause > 100 ms */
    uint64_t rec_due = t0, ram_due = t0, next_report = p.report ? t0 + p.report * khz : UINT64_MAX;
    uint64_t slot_seq[MAX_QD];
    uint64_t next_seq = 0, done = 0, pos = l.start, inflight = 0, reports = 0;
    bool writing = true, full = false;

    for (;;) {
        uint64_t now = rdtsc();
        if (writing && (now >= end_tsc || (p.have_records && next_seq >= p.records))) {
            writing = false;
        }
        /* disk: submit the records that are due */
        while (writing && !full && inflight < p.qd && (!rec_tsc || now >= rec_due) &&
               (!p.have_records || next_seq < p.records)) {
            unsigned sect = log_payload_sect(&l, next_seq);
            if (pos + 1 + sect > l.end) {
                full = true;
                printf("blk-log: log full at seq=%lu sector=%lu: disk writes stop%s\n", next_seq,
                       pos, ram.pages ? ", RAM goes on" : "");
                break;
            }
            unsigned slot = 0;
            while (l.d.slots[slot].busy) {
                slot++;
            }
            LogHeader *h = (LogHeader *)(SLOT_BASE + (uintptr_t)slot * SLOT_BYTES);
            uint64_t *pl = (uint64_t *)(h + 1);
            payload_fill(pl, l.seed, next_seq, sect);
            header_make(h, &l, next_seq, pos, sect, 0,
                        checksum(pl, (uint64_t)sect * (SECTOR / 8)), ram.gen - 1);
            bool skip = p.have_corrupt && next_seq == p.corrupt;
            if (skip) {
                printf("blk-log: corrupt=%lu: record %lu at sector %lu written without its "
                       "payload\n", p.corrupt, next_seq, pos);
            }
            vblk_submit(&l.d, slot, VBLK_T_OUT, pos, h, (skip ? 1 : 1 + sect) * SECTOR, false);
            slot_seq[slot] = next_seq;
            inflight++;
            next_seq++;
            pos += 1 + sect;
            rec_due = (rec_tsc && now - rec_due > slack) ? now : rec_due + rec_tsc;
        }
        vblk_kick(&l.d);
        uint8_t st;
        int slot;
        while ((slot = vblk_reap(&l.d, &st, NULL)) >= 0) {
            if (st != VBLK_S_OK) {
                printf("blk-log: FAIL write of record %lu returned status %u\n", slot_seq[slot],
                       st);
                return GUEST_FAIL;
            }
            inflight--;
            if (++done % 64 == 0) {
                guest_progress((uint32_t)done);
            }
        }
        /* RAM: the pages that are due, at most 64 at a time so the disk keeps going */
        if (ram.pages && now < end_tsc) {
            uint64_t n = 16;
            if (page_tsc) {
                if (now > ram_due && now - ram_due > slack) {
                    ram_due = now;
                }
                n = now >= ram_due ? (now - ram_due) / page_tsc + 1 : 0;
                n = n > 64 ? 64 : n;
                ram_due += n * page_tsc;
            }
            if (!ram_step(&ram, n)) {
                return GUEST_FAIL;
            }
        }
        if (now >= next_report) {
            reports++;
            next_report = now - next_report > slack ? now + p.report * khz
                                                    : next_report + p.report * khz;
            guest_progress((uint32_t)done);
            printf("blk-log: seq=%lu ram-gen=%lu t=%lu ms inflight=%lu sector=%lu\n", done,
                   ram.gen - 1, (now - t0) / khz, inflight, pos);
        }
        if (!writing && !inflight) {
            break;
        }
        __asm__ volatile("pause");
    }
    uint64_t run_ms = khz ? (rdtsc() - t0) / khz : 0;

    /* the end marker, then make it all stable */
    if (pos < l.end) {
        LogHeader *h = (LogHeader *)SLOT_BASE;
        header_make(h, &l, next_seq, pos, 0, LOG_F_END, 0, ram.gen - 1);
        uint8_t s = vblk_sync(&l.d, VBLK_T_OUT, pos, h, SECTOR, false);
        if (s != VBLK_S_OK) {
            printf("blk-log: FAIL write of the end marker returned status %u\n", s);
            return GUEST_FAIL;
        }
    }
    uint8_t s = vblk_sync(&l.d, VBLK_T_FLUSH, 0, NULL, 0, false);
    if (s != VBLK_S_OK) {
        printf("blk-log: FAIL flush returned status %u\n", s);
        return GUEST_FAIL;
    }
    guest_progress((uint32_t)done);
    printf("blk-log: wrote records=%lu sectors=%lu in %lu ms; ram-gen=%lu ram-pages=%lu; "
           "verifying\n", next_seq, pos - l.start, run_ms, ram.gen - 1, ram.written);

    uint64_t end_sector;
    int64_t n = log_verify(&l, next_seq, true, true, true, &end_sector);
    if (n < 0) {
        return GUEST_FAIL;
    }
    if (ram.pages && !ram_check_all(&ram)) {
        return GUEST_FAIL;
    }
    printf("blk-log: PASS records=%lu sectors=%lu seed=%lu ram-gen=%lu ram-pages=%lu ms=%lu "
           "reports=%lu\n", (uint64_t)n, end_sector - l.start, l.seed, ram.gen - 1, ram.written,
           run_ms, reports);
    return GUEST_PASS;
}

int blk_log_verify_main(const char *args, const GuestInfo *gi)
{
    LogParams p;
    Log l = { .who = "blk-log-verify" };

    if (!log_params(l.who, args, gi, &p, false) || !log_open(&l, &p, !p.have_mib)) {
        return GUEST_USAGE;
    }
    printf("blk-log-verify: start off=%lu mib=%s seed=%s kib=%s records=%s\n", p.off,
           p.have_mib ? "given" : "from the log", p.have_seed ? "given" : "from the log",
           p.have_kib ? "given" : "from the log", p.have_records ? "given" : "to the end marker");
    uint64_t end_sector;
    uint64_t t0 = rdtsc();
    int64_t n = log_verify(&l, p.have_records ? p.records : UINT64_MAX, p.have_seed, p.have_kib,
                           p.have_mib, &end_sector);
    if (n < 0) {
        return GUEST_FAIL;
    }
    if (n == 0 && !p.have_records) {
        printf("blk-log-verify: FAIL no log at sector %lu\n", l.start);
        return GUEST_FAIL;
    }
    printf("blk-log-verify: PASS records=%lu sectors=%lu seed=%lu ms=%lu\n", (uint64_t)n,
           end_sector - l.start, l.seed, gi->tsc_khz ? (rdtsc() - t0) / gi->tsc_khz : 0);
    return GUEST_PASS;
}
