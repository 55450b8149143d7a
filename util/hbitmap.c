/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * hbitmap.c: hierarchical bitmap (contracts in include/util/hbitmap.h).
 *
 * Layout, for nbits = ceil(size / 2^g) bits:
 *
 *   level[top]   1 word               bit j: word j of level[top-1] != 0
 *   ...
 *   level[1]     ceil(words0 / 64)    bit j: word j of level[0] != 0
 *   level[0]     words0 = max(1, ceil(nbits / 64)) words of bits
 *
 * Bits of level[0] past nbits are always 0, so searches may run into the padding
 * and callers only need to compare against nbits or size.
 */
#include "util/osdep.h"
#include "util/hbitmap.h"

#define HB_WORD_BITS 64
#define HB_MAX_LEVELS 12        /* 64^11 > 2^64: enough for any size */

struct HBitmap {
    uint64_t size;              /* items */
    int granularity;
    uint64_t nbits;             /* level-0 bits in use */
    uint64_t count;             /* set bits in level 0 */
    int nlevels;
    uint64_t nwords[HB_MAX_LEVELS];
    uint64_t *level[HB_MAX_LEVELS];
};

/* Mask of bits [lo, hi] within one word (0 <= lo <= hi < 64). */
static inline uint64_t hb_mask(unsigned lo, unsigned hi)
{
    return (~UINT64_C(0) << lo) & (~UINT64_C(0) >> (63 - hi));
}

/* Set or clear bits [first, last] of one level; returns how many bits changed. */
static uint64_t hb_level_update(uint64_t *words, uint64_t first, uint64_t last, bool set)
{
    uint64_t changed = 0;

    for (uint64_t w = first / HB_WORD_BITS; w <= last / HB_WORD_BITS; w++) {
        unsigned lo = w == first / HB_WORD_BITS ? first % HB_WORD_BITS : 0;
        unsigned hi = w == last / HB_WORD_BITS ? last % HB_WORD_BITS : 63;
        uint64_t mask = hb_mask(lo, hi);
        uint64_t old = words[w];
        words[w] = set ? old | mask : old & ~mask;
        changed += __builtin_popcountll(old ^ words[w]);
    }
    return changed;
}

/* Compute nbits, nlevels and nwords for hb->size; allocate nothing. */
static void hb_compute_geometry(HBitmap *hb)
{
    uint64_t chunk = UINT64_C(1) << hb->granularity;

    hb->nbits = hb->size / chunk + (hb->size % chunk != 0);
    uint64_t words = MAX(DIV_ROUND_UP(hb->nbits, HB_WORD_BITS), 1);
    hb->nlevels = 0;
    for (;;) {
        hb->nwords[hb->nlevels++] = words;
        if (words == 1) {
            break;
        }
        words = DIV_ROUND_UP(words, HB_WORD_BITS);
    }
}

/* Recompute the summary levels and the count from level 0 (O(words)). */
static void hb_rebuild(HBitmap *hb)
{
    hb->count = 0;
    for (uint64_t w = 0; w < hb->nwords[0]; w++) {
        hb->count += __builtin_popcountll(hb->level[0][w]);
    }
    for (int l = 1; l < hb->nlevels; l++) {
        memset(hb->level[l], 0, hb->nwords[l] * sizeof(uint64_t));
        for (uint64_t w = 0; w < hb->nwords[l - 1]; w++) {
            if (hb->level[l - 1][w]) {
                hb->level[l][w / HB_WORD_BITS] |= UINT64_C(1) << (w % HB_WORD_BITS);
            }
        }
    }
}

static void hb_free_upper(HBitmap *hb)
{
    for (int l = 1; l < hb->nlevels; l++) {
        g_free(hb->level[l]);
        hb->level[l] = NULL;
    }
}

static void hb_alloc_upper(HBitmap *hb)
{
    for (int l = 1; l < hb->nlevels; l++) {
        hb->level[l] = g_new0(uint64_t, hb->nwords[l]);
    }
}

HBitmap *hbitmap_alloc(uint64_t size, int granularity)
{
    HBitmap *hb = g_new0(HBitmap, 1);

    assert(granularity >= 0 && granularity < 64);
    hb->size = size;
    hb->granularity = granularity;
    hb_compute_geometry(hb);
    hb->level[0] = g_new0(uint64_t, hb->nwords[0]);
    hb_alloc_upper(hb);
    return hb;
}

void hbitmap_free(HBitmap *hb)
{
    if (!hb) {
        return;
    }
    hb_free_upper(hb);
    g_free(hb->level[0]);
    g_free(hb);
}

HBitmap *hbitmap_copy(const HBitmap *hb)
{
    HBitmap *copy = g_memdup2(hb, sizeof(*hb));

    for (int l = 0; l < hb->nlevels; l++) {
        copy->level[l] = g_memdup2(hb->level[l], hb->nwords[l] * sizeof(uint64_t));
    }
    return copy;
}

uint64_t hbitmap_size(const HBitmap *hb)
{
    return hb->size;
}

int hbitmap_granularity(const HBitmap *hb)
{
    return hb->granularity;
}

uint64_t hbitmap_count(const HBitmap *hb)
{
    return hb->count << hb->granularity;
}

bool hbitmap_empty(const HBitmap *hb)
{
    return hb->count == 0;
}

/* ---- bit-level updates ---- */

/* Set bits [first, last]: a word that gets a bit is non-zero, so the summary
 * levels simply get the range of touched words set, level by level. */
static void hb_set_bits(HBitmap *hb, uint64_t first, uint64_t last)
{
    hb->count += hb_level_update(hb->level[0], first, last, true);
    for (int l = 1; l < hb->nlevels; l++) {
        first /= HB_WORD_BITS;
        last /= HB_WORD_BITS;
        hb_level_update(hb->level[l], first, last, true);
    }
}

/* Clear bits [first, last]. Words strictly inside the range become zero; the two
 * boundary words may keep other bits, so their summary bits are restored. */
static void hb_reset_bits(HBitmap *hb, uint64_t first, uint64_t last)
{
    hb->count -= hb_level_update(hb->level[0], first, last, false);
    for (int l = 1; l < hb->nlevels; l++) {
        first /= HB_WORD_BITS;
        last /= HB_WORD_BITS;
        hb_level_update(hb->level[l], first, last, false);
        const uint64_t *below = hb->level[l - 1];
        if (below[first]) {
            hb->level[l][first / HB_WORD_BITS] |= UINT64_C(1) << (first % HB_WORD_BITS);
        }
        if (below[last]) {
            hb->level[l][last / HB_WORD_BITS] |= UINT64_C(1) << (last % HB_WORD_BITS);
        }
    }
}

void hbitmap_set(HBitmap *hb, uint64_t start, uint64_t count)
{
    if (count == 0) {
        return;
    }
    assert(start < hb->size && count <= hb->size - start);
    hb_set_bits(hb, start >> hb->granularity, (start + count - 1) >> hb->granularity);
}

void hbitmap_reset(HBitmap *hb, uint64_t start, uint64_t count)
{
    uint64_t chunk = UINT64_C(1) << hb->granularity;

    if (count == 0) {
        return;
    }
    assert(start < hb->size && count <= hb->size - start);
    assert(start % chunk == 0);
    assert(count % chunk == 0 || start + count == hb->size);
    hb_reset_bits(hb, start >> hb->granularity, (start + count - 1) >> hb->granularity);
}

void hbitmap_reset_all(HBitmap *hb)
{
    for (int l = 0; l < hb->nlevels; l++) {
        memset(hb->level[l], 0, hb->nwords[l] * sizeof(uint64_t));
    }
    hb->count = 0;
}

bool hbitmap_get(const HBitmap *hb, uint64_t item)
{
    assert(item < hb->size);
    uint64_t bit = item >> hb->granularity;
    return hb->level[0][bit / HB_WORD_BITS] & (UINT64_C(1) << (bit % HB_WORD_BITS));
}

/* ---- searching ---- */

/*
 * First set bit >= pos on level l, or -1. A miss in pos's word asks the level
 * above for the next non-zero word, whose lowest bit is then the answer.
 */
static int64_t hb_next_set(const HBitmap *hb, int l, uint64_t pos)
{
    if (pos >= hb->nwords[l] * HB_WORD_BITS) {
        return -1;
    }
    uint64_t w = hb->level[l][pos / HB_WORD_BITS] & (~UINT64_C(0) << (pos % HB_WORD_BITS));
    if (w) {
        return (pos & ~(uint64_t)(HB_WORD_BITS - 1)) + __builtin_ctzll(w);
    }
    if (l == hb->nlevels - 1) {
        return -1;
    }
    int64_t idx = hb_next_set(hb, l + 1, pos / HB_WORD_BITS + 1);
    if (idx < 0) {
        return -1;
    }
    w = hb->level[l][idx];
    assert(w);
    return (uint64_t)idx * HB_WORD_BITS + __builtin_ctzll(w);
}

/* First clear bit >= pos on level 0 (may be padding past nbits), or -1. */
static int64_t hb_next_clear(const HBitmap *hb, uint64_t pos)
{
    uint64_t i = pos / HB_WORD_BITS;

    if (i >= hb->nwords[0]) {
        return -1;
    }
    uint64_t w = ~hb->level[0][i] & (~UINT64_C(0) << (pos % HB_WORD_BITS));
    while (!w) {
        if (++i == hb->nwords[0]) {
            return -1;
        }
        w = ~hb->level[0][i];
    }
    return i * HB_WORD_BITS + __builtin_ctzll(w);
}

/* Clamp [start, start+count) to the bitmap; false if empty. *end is exclusive. */
static bool hb_clamp(const HBitmap *hb, int64_t start, int64_t count, uint64_t *end)
{
    assert(start >= 0 && count >= 0);
    if ((uint64_t)start >= hb->size || count == 0) {
        return false;
    }
    *end = (uint64_t)count > hb->size - start ? hb->size : (uint64_t)start + count;
    return true;
}

int64_t hbitmap_next_dirty(const HBitmap *hb, int64_t start, int64_t count)
{
    uint64_t end;

    if (!hb_clamp(hb, start, count, &end)) {
        return -1;
    }
    int64_t bit = hb_next_set(hb, 0, (uint64_t)start >> hb->granularity);
    if (bit < 0 || (uint64_t)bit > (end - 1) >> hb->granularity) {
        return -1;
    }
    return MAX((uint64_t)bit << hb->granularity, (uint64_t)start);
}

int64_t hbitmap_next_zero(const HBitmap *hb, int64_t start, int64_t count)
{
    uint64_t end;

    if (!hb_clamp(hb, start, count, &end)) {
        return -1;
    }
    int64_t bit = hb_next_clear(hb, (uint64_t)start >> hb->granularity);
    if (bit < 0 || (uint64_t)bit > (end - 1) >> hb->granularity) {
        return -1;
    }
    return MAX((uint64_t)bit << hb->granularity, (uint64_t)start);
}

bool hbitmap_next_dirty_area(const HBitmap *hb, int64_t start, int64_t end,
                             int64_t max_dirty_count, int64_t *dirty_start,
                             int64_t *dirty_count)
{
    assert(start >= 0 && end >= 0 && max_dirty_count > 0);
    end = MIN((uint64_t)end, hb->size);
    if (start >= end) {
        return false;
    }
    int64_t first = hbitmap_next_dirty(hb, start, end - start);
    if (first < 0) {
        return false;
    }
    int64_t limit = MIN(max_dirty_count, end - first);
    int64_t clean = hbitmap_next_zero(hb, first, limit);
    *dirty_start = first;
    *dirty_count = clean < 0 ? limit : clean - first;
    return true;
}

bool hbitmap_status(const HBitmap *hb, int64_t start, int64_t count, int64_t *pnum)
{
    uint64_t end;

    assert(count > 0 && start >= 0 && (uint64_t)start < hb->size);
    if (!hb_clamp(hb, start, count, &end)) {
        *pnum = 0;
        return false;
    }
    bool dirty = hbitmap_get(hb, start);
    int64_t next = dirty ? hbitmap_next_zero(hb, start, end - start)
                         : hbitmap_next_dirty(hb, start, end - start);
    *pnum = (next < 0 ? (int64_t)end : next) - start;
    return dirty;
}

void hbitmap_iter_init(HBitmapIter *hbi, const HBitmap *hb, uint64_t first)
{
    hbi->hb = hb;
    hbi->pos = first >> hb->granularity;
}

int64_t hbitmap_iter_next(HBitmapIter *hbi)
{
    const HBitmap *hb = hbi->hb;
    int64_t bit = hb_next_set(hb, 0, hbi->pos);

    if (bit < 0 || (uint64_t)bit >= hb->nbits) {
        hbi->pos = hb->nbits;
        return -1;
    }
    hbi->pos = bit + 1;
    return (uint64_t)bit << hb->granularity;
}

/* ---- resize and merge ---- */

void hbitmap_truncate(HBitmap *hb, uint64_t size)
{
    uint64_t old_nbits = hb->nbits;
    uint64_t old_words = hb->nwords[0];

    hb->size = size;
    hb_compute_geometry(hb);
    if (hb->nbits < old_nbits) {
        /* Clear the dropped bits while the old geometry still covers them. */
        hb_level_update(hb->level[0], hb->nbits, old_nbits - 1, false);
    }
    hb->level[0] = g_renew(uint64_t, hb->level[0], hb->nwords[0]);
    if (hb->nwords[0] > old_words) {
        memset(hb->level[0] + old_words, 0, (hb->nwords[0] - old_words) * sizeof(uint64_t));
    }
    /* The number of levels may change; rebuilding is O(words) and truncate is rare. */
    for (int l = 1; l < HB_MAX_LEVELS; l++) {
        g_free(hb->level[l]);
        hb->level[l] = NULL;
    }
    hb_alloc_upper(hb);
    hb_rebuild(hb);
}

bool hbitmap_can_merge(const HBitmap *a, const HBitmap *b)
{
    return a->size == b->size;
}

/* Dirty in dst every chunk covering a dirty chunk of src (any granularities). */
static void hb_merge_slow(HBitmap *dst, const HBitmap *src)
{
    int64_t off = 0, len;

    while (hbitmap_next_dirty_area(src, off, src->size, INT64_MAX, &off, &len)) {
        hbitmap_set(dst, off, len);
        off += len;
    }
}

void hbitmap_merge(const HBitmap *a, const HBitmap *b, HBitmap *result)
{
    assert(hbitmap_can_merge(a, result) && hbitmap_can_merge(b, result));

    if (a->granularity == result->granularity && b->granularity == result->granularity) {
        for (uint64_t w = 0; w < result->nwords[0]; w++) {
            result->level[0][w] = a->level[0][w] | b->level[0][w];
        }
        hb_rebuild(result);
        return;
    }
    /* result may alias a or b, so collect into a scratch bitmap first. */
    g_autoptr(HBitmap) tmp = hbitmap_alloc(result->size, result->granularity);
    hb_merge_slow(tmp, a);
    hb_merge_slow(tmp, b);
    for (int l = 0; l < HB_MAX_LEVELS; l++) {
        uint64_t *swap = result->level[l];
        result->level[l] = tmp->level[l];
        tmp->level[l] = swap;
    }
    result->count = tmp->count;
}

/* ---- serialisation ---- */

uint64_t hbitmap_serialization_align(const HBitmap *hb)
{
    return (uint64_t)HB_WORD_BITS << hb->granularity;
}

/* The level-0 words covering items [start, start+count). */
static void hb_serial_words(const HBitmap *hb, uint64_t start, uint64_t count,
                            uint64_t *first_word, uint64_t *nwords)
{
    uint64_t align = hbitmap_serialization_align(hb);

    assert(count > 0 && start < hb->size && count <= hb->size - start);
    assert(start % align == 0);
    assert(count % align == 0 || start + count == hb->size);
    uint64_t last_bit = (start + count - 1) >> hb->granularity;
    *first_word = (start >> hb->granularity) / HB_WORD_BITS;
    *nwords = last_bit / HB_WORD_BITS - *first_word + 1;
}

uint64_t hbitmap_serialization_size(const HBitmap *hb, uint64_t start, uint64_t count)
{
    uint64_t first, n;

    if (count == 0) {
        return 0;
    }
    hb_serial_words(hb, start, count, &first, &n);
    return n * sizeof(uint64_t);
}

void hbitmap_serialize_part(const HBitmap *hb, uint8_t *buf, uint64_t start, uint64_t count)
{
    uint64_t first, n;

    if (count == 0) {
        return;
    }
    hb_serial_words(hb, start, count, &first, &n);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t le = GUINT64_TO_LE(hb->level[0][first + i]);
        memcpy(buf + i * sizeof(le), &le, sizeof(le));
    }
}

/* Keep the padding past nbits clear whatever the stream said. */
static void hb_mask_tail(HBitmap *hb)
{
    if (hb->nbits % HB_WORD_BITS) {
        hb->level[0][hb->nbits / HB_WORD_BITS] &= hb_mask(0, hb->nbits % HB_WORD_BITS - 1);
    } else if (hb->nbits == 0) {
        hb->level[0][0] = 0;
    }
}

void hbitmap_deserialize_part(HBitmap *hb, const uint8_t *buf, uint64_t start,
                              uint64_t count, bool finish)
{
    uint64_t first, n;

    if (count > 0) {
        hb_serial_words(hb, start, count, &first, &n);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t le;
            memcpy(&le, buf + i * sizeof(le), sizeof(le));
            hb->level[0][first + i] = GUINT64_FROM_LE(le);
        }
        hb_mask_tail(hb);
    }
    if (finish) {
        hbitmap_deserialize_finish(hb);
    }
}

static void hb_deserialize_fill(HBitmap *hb, uint64_t start, uint64_t count, bool finish,
                                uint64_t fill)
{
    uint64_t first, n;

    if (count > 0) {
        hb_serial_words(hb, start, count, &first, &n);
        for (uint64_t i = 0; i < n; i++) {
            hb->level[0][first + i] = fill;
        }
        hb_mask_tail(hb);
    }
    if (finish) {
        hbitmap_deserialize_finish(hb);
    }
}

void hbitmap_deserialize_zeroes(HBitmap *hb, uint64_t start, uint64_t count, bool finish)
{
    hb_deserialize_fill(hb, start, count, finish, 0);
}

void hbitmap_deserialize_ones(HBitmap *hb, uint64_t start, uint64_t count, bool finish)
{
    hb_deserialize_fill(hb, start, count, finish, ~UINT64_C(0));
}

void hbitmap_deserialize_finish(HBitmap *hb)
{
    hb_rebuild(hb);
}

char *hbitmap_sha256(const HBitmap *hb, Error **errp)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);

    for (uint64_t w = 0; w < hb->nwords[0]; w++) {
        uint64_t le = GUINT64_TO_LE(hb->level[0][w]);
        g_checksum_update(sum, (const guchar *)&le, sizeof(le));
    }
    return g_strdup(g_checksum_get_string(sum));
}
