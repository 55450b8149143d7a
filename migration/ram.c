/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * ram.c: the "ram" section of the KVM machine (include/migration/machine-mig.h).
 *
 * Source: every page starts dirty (the bulk pass). Each sync pass ORs in KVM's
 * dirty log (KVM_GET_DIRTY_LOG, re-armed by the call) and the pages devices wrote
 * (virtio's dirty hook, which KVM never sees). Iterations send dirty pages in
 * address order, 256 per record; a page of zeroes goes as a flag. Once the VM is
 * stopped, the last sync leaves exactly the pages still to send.
 *
 *   START     be64 ram-size | be32 page-size (4096)
 *   PART/END  { be64 gpa | flags ; if PAGE: 4096 bytes }*     flags: 1 ZERO, 2 PAGE
 *
 * Destination: sizes must match this machine's; every gpa must be page aligned
 * and inside RAM and every entry exactly one of ZERO or PAGE. RAM is written
 * while the destination's vCPUs are parked (started paused, or not started).
 */
#include "util/osdep.h"
#include "migration/machine-mig.h"
#include "migration-int.h"

#define RAM_PAGE           4096ULL
#define RAM_F_ZERO         1
#define RAM_F_PAGE         2
#define RAM_F_MASK         (RAM_PAGE - 1)
#define RAM_PAGES_PER_REC  256

struct RamMig {
    Machine *m;
    uint8_t *host;
    uint64_t size;
    uint64_t pages;
    MigrationState *owner;        /* for the test-only negative control; may be NULL */

    /* source, main loop */
    uint64_t *dirty;              /* pages to send, one bit each */
    uint64_t dirty_count;
    uint64_t cursor;              /* next page to look at this round */
    uint64_t *kvm_log;
    bool bulk_done;
    bool final_synced;
    /* written by device hooks (main loop, vdev->lock held): atomics */
    uint64_t *dma_dirty;
    bool logging;
};

static bool ram_buffer_is_zero(const uint8_t *p)
{
    const uint64_t *w = (const uint64_t *)p;

    for (size_t i = 0; i < RAM_PAGE / 8; i += 8) {
        if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] |
            w[i + 7]) {
            return false;
        }
    }
    return true;
}

void ram_mig_mark_dirty(void *opaque, uint64_t gpa, uint64_t len)
{
    RamMig *rs = opaque;

    if (!__atomic_load_n(&rs->logging, __ATOMIC_ACQUIRE) || !len || gpa >= rs->size) {
        return;
    }
    uint64_t last = MIN(gpa + len - 1, rs->size - 1) / RAM_PAGE;
    for (uint64_t p = gpa / RAM_PAGE; p <= last; p++) {
        __atomic_fetch_or(&rs->dma_dirty[p / 64], 1ULL << (p % 64), __ATOMIC_RELAXED);
    }
}

static void ram_count_dirty(RamMig *rs)
{
    uint64_t n = 0;

    for (uint64_t w = 0; w < (rs->pages + 63) / 64; w++) {
        n += __builtin_popcountll(rs->dirty[w]);
    }
    rs->dirty_count = n;
}

static int ram_save_setup(MigStream *f, void *opaque, MigSaveInfo *info, Error **errp)
{
    RamMig *rs = opaque;
    size_t words = (rs->pages + 63) / 64;

    rs->dirty = g_new0(uint64_t, words);
    rs->dma_dirty = g_new0(uint64_t, words);
    rs->kvm_log = g_new0(uint64_t, kvm_dirty_bitmap_words(kvm_vm_get_slot(
                                       machine_vm(rs->m), 0)));
    for (uint64_t p = 0; p < rs->pages; p++) {
        rs->dirty[p / 64] |= 1ULL << (p % 64);
    }
    rs->dirty_count = rs->pages;
    rs->cursor = 0;
    rs->bulk_done = rs->final_synced = false;
    if (!kvm_vm_set_dirty_log(machine_vm(rs->m), true, errp)) {
        return -EIO;
    }
    __atomic_store_n(&rs->logging, true, __ATOMIC_RELEASE);
    info->ram.total = rs->size;
    info->ram.remaining = rs->size;
    mig_put_be64(f, rs->size);
    mig_put_be32(f, RAM_PAGE);
    return 0;
}

/* Harvest KVM's log and the devices' writes into the dirty bitmap. */
static void ram_save_sync(void *opaque, MigSaveInfo *info)
{
    RamMig *rs = opaque;
    KvmVm *vm = machine_vm(rs->m);
    const KvmMemSlot *slot = kvm_vm_get_slot(vm, 0);
    bool drop = rs->owner && migration_test_drop_dirty_get(rs->owner) && rs->bulk_done;
    Error *err = NULL;

    if (!kvm_vm_get_dirty_log(vm, 0, rs->kvm_log, &err)) {
        error_report_err(err);      /* everything is re-sent: correct, only slower */
        memset(rs->kvm_log, 0xff, kvm_dirty_bitmap_words(slot) * 8);
    }
    uint64_t words = MIN((rs->pages + 63) / 64, kvm_dirty_bitmap_words(slot));
    for (uint64_t w = 0; w < (rs->pages + 63) / 64; w++) {
        uint64_t bits = __atomic_exchange_n(&rs->dma_dirty[w], 0, __ATOMIC_RELAXED);
        if (w < words) {
            bits |= rs->kvm_log[w];
        }
        if (!drop) {
            rs->dirty[w] |= bits;
        }
    }
    if (rs->pages % 64) {
        rs->dirty[rs->pages / 64] &= (1ULL << (rs->pages % 64)) - 1;
    }
    ram_count_dirty(rs);
    rs->cursor = 0;
    info->ram.remaining = rs->dirty_count * RAM_PAGE;
}

/* Send up to one record's worth of dirty pages; 1 when the bitmap is clean. */
static int ram_send_some(MigStream *f, RamMig *rs, MigCounters *c, bool stopped)
{
    unsigned sent = 0;

    while (sent < RAM_PAGES_PER_REC && rs->cursor < rs->pages) {
        uint64_t w = rs->cursor / 64;
        uint64_t bits = rs->dirty[w] & (~0ULL << (rs->cursor % 64));

        if (!bits) {
            rs->cursor = (w + 1) * 64;
            continue;
        }
        uint64_t p = w * 64 + __builtin_ctzll(bits);
        if (p >= rs->pages) {
            rs->cursor = rs->pages;
            break;
        }
        rs->dirty[w] &= ~(1ULL << (p % 64));
        rs->dirty_count--;
        rs->cursor = p + 1;

        const uint8_t *page = rs->host + p * RAM_PAGE;
        uint64_t bytes = 8;
        if (ram_buffer_is_zero(page)) {
            mig_put_be64(f, p * RAM_PAGE | RAM_F_ZERO);
            c->duplicate++;
        } else {
            mig_put_be64(f, p * RAM_PAGE | RAM_F_PAGE);
            mig_put_buffer(f, page, RAM_PAGE);
            c->normal++;
            c->normal_bytes += RAM_PAGE;
            bytes += RAM_PAGE;
        }
        c->transferred += bytes;
        if (stopped) {
            c->downtime_bytes += bytes;
        }
        sent++;
    }
    c->remaining = rs->dirty_count * RAM_PAGE;
    if (rs->cursor >= rs->pages) {
        rs->bulk_done = true;
        return 1;
    }
    return 0;
}

static int coroutine_fn ram_save_iterate(MigStream *f, void *opaque, MigSaveInfo *info)
{
    return ram_send_some(f, opaque, &info->ram, false);
}

static uint64_t ram_save_pending(void *opaque, MigSaveInfo *info)
{
    RamMig *rs = opaque;

    return rs->dirty_count * RAM_PAGE;
}

static int coroutine_fn ram_save_complete(MigStream *f, void *opaque, MigSaveInfo *info)
{
    RamMig *rs = opaque;

    if (!rs->final_synced) {
        /* devices drained after the core's last sync may have written more */
        rs->final_synced = true;
        ram_save_sync(rs, info);
    }
    int ret = ram_send_some(f, rs, &info->ram, true);
    if (ret > 0 && rs->dirty_count) {
        rs->cursor = 0;             /* cannot happen while stopped; be safe */
        return 0;
    }
    return ret;
}

static void ram_save_cleanup(void *opaque, MigSaveInfo *info)
{
    RamMig *rs = opaque;

    __atomic_store_n(&rs->logging, false, __ATOMIC_RELEASE);
    kvm_vm_set_dirty_log(machine_vm(rs->m), false, NULL);
    g_clear_pointer(&rs->dirty, g_free);
    g_clear_pointer(&rs->dma_dirty, g_free);
    g_clear_pointer(&rs->kvm_log, g_free);
}

static int coroutine_fn ram_load(MigStream *f, void *opaque, uint8_t type, uint32_t version,
                                 Error **errp)
{
    RamMig *rs = opaque;

    if (type == MIG_REC_START) {
        uint64_t size = mig_get_be64(f);
        uint32_t page = mig_get_be32(f);
        if (mig_stream_error(f, errp)) {
            return -EIO;
        }
        if (size != rs->size || page != RAM_PAGE) {
            error_setg(errp, "RAM size %" PRIu64 " (pages of %" PRIu32 ") does not match this "
                       "machine's %" PRIu64, size, page, rs->size);
            return -EINVAL;
        }
        return 0;
    }
    if (type != MIG_REC_PART && type != MIG_REC_END) {
        error_setg(errp, "Unexpected record type %u", type);
        return -EINVAL;
    }
    while (mig_stream_left(f) > 0) {
        uint64_t hdr = mig_get_be64(f);
        uint64_t gpa = hdr & ~RAM_F_MASK, flags = hdr & RAM_F_MASK;

        if (mig_stream_error(f, errp)) {
            return -EIO;
        }
        if (gpa >= rs->size || (flags != RAM_F_ZERO && flags != RAM_F_PAGE)) {
            error_setg(errp, "Invalid RAM page entry 0x%" PRIx64, hdr);
            return -EINVAL;
        }
        if (flags == RAM_F_ZERO) {
            if (!ram_buffer_is_zero(rs->host + gpa)) {
                memset(rs->host + gpa, 0, RAM_PAGE);
            }
        } else if (!mig_get_buffer(f, rs->host + gpa, RAM_PAGE)) {
            mig_stream_error(f, errp);
            return -EIO;
        }
    }
    return 0;
}

static const MigSectionOps ram_ops = {
    .save_setup = ram_save_setup,
    .save_iterate = ram_save_iterate,
    .save_pending = ram_save_pending,
    .save_sync = ram_save_sync,
    .save_complete = ram_save_complete,
    .save_cleanup = ram_save_cleanup,
    .load = ram_load,
};

RamMig *ram_mig_register(MigRegistry *reg, Machine *m, MigrationState *owner)
{
    RamMig *rs = g_new0(RamMig, 1);

    rs->m = m;
    rs->owner = owner;
    rs->host = machine_ram(m, &rs->size);
    rs->pages = rs->size / RAM_PAGE;
    mig_register(reg, "ram", 0, 1, &ram_ops, rs);
    return rs;
}

void ram_mig_free(RamMig *rs)
{
    if (rs) {
        if (rs->dirty) {            /* a migration is still set up: the machine exists */
            ram_save_cleanup(rs, NULL);
        }
        g_free(rs);
    }
}
