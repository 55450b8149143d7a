/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * A libFuzzer-compatible driver for builds without libFuzzer: feeds every file of
 * the seed corpus directory (argv[1]) to LLVMFuzzerTestOneInput, then a fixed
 * number of deterministic mutations of each (bit flips, truncations, splices,
 * byte repeats). It finds fewer bugs than coverage-guided fuzzing, but it runs in
 * every CI build, under ASan too, and replays every seed that once crashed.
 *
 * GODWIT_FUZZ_ITERATIONS overrides the mutation count per seed (default 2000).
 */
#include "util/osdep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
    /* xorshift64*: deterministic, so a failure reproduces */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static void mutate(GByteArray *buf, const GByteArray *other)
{
    size_t len = buf->len;

    switch (rng_next() % 6) {
    case 0:                                         /* flip a bit */
        if (len) {
            buf->data[rng_next() % len] ^= 1u << (rng_next() % 8);
        }
        break;
    case 1:                                         /* random byte */
        if (len) {
            buf->data[rng_next() % len] = (uint8_t)rng_next();
        }
        break;
    case 2:                                         /* truncate */
        if (len) {
            g_byte_array_set_size(buf, rng_next() % len);
        }
        break;
    case 3: {                                       /* repeat a slice */
        if (len) {
            size_t off = rng_next() % len, n = 1 + rng_next() % MIN(len - off, 64);
            unsigned reps = 1 + rng_next() % 64;
            g_autofree uint8_t *slice = g_memdup2(buf->data + off, n);
            for (unsigned i = 0; i < reps && buf->len < (1u << 20); i++) {
                g_byte_array_append(buf, slice, n);
            }
        }
        break;
    }
    case 4:                                         /* splice in another seed */
        if (other && other->len) {
            size_t off = rng_next() % other->len;
            g_byte_array_append(buf, other->data + off, other->len - off);
        }
        break;
    default: {                                      /* interesting byte */
        static const uint8_t special[] = { 0, 0xff, 0x7f, 0x80, '\\', '"', '\'', '{', '[', '\n' };
        uint8_t c = special[rng_next() % sizeof(special)];
        size_t at = len ? rng_next() % len : 0;
        g_byte_array_set_size(buf, len + 1);
        memmove(buf->data + at + 1, buf->data + at, len - at);
        buf->data[at] = c;
        break;
    }
    }
}

int main(int argc, char **argv)
{
    GPtrArray *seeds = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    const char *iters_env = getenv("GODWIT_FUZZ_ITERATIONS");
    unsigned iterations = iters_env ? (unsigned)atoi(iters_env) : 2000;
    unsigned long runs = 0;

    for (int i = 1; i < argc; i++) {
        GDir *dir = g_dir_open(argv[i], 0, NULL);
        const char *name;
        if (!dir) {
            fprintf(stderr, "cannot open corpus directory %s\n", argv[i]);
            return 1;
        }
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *path = g_build_filename(argv[i], name, NULL);
            gchar *contents;
            gsize len;
            if (g_file_get_contents(path, &contents, &len, NULL)) {
                g_ptr_array_add(seeds, g_byte_array_new_take((guint8 *)contents, len));
            }
        }
        g_dir_close(dir);
    }
    if (seeds->len == 0) {
        g_ptr_array_add(seeds, g_byte_array_new());
    }
    for (guint s = 0; s < seeds->len; s++) {
        GByteArray *seed = g_ptr_array_index(seeds, s);
        LLVMFuzzerTestOneInput(seed->data, seed->len);
        runs++;
        for (unsigned i = 0; i < iterations; i++) {
            GByteArray *buf = g_byte_array_sized_new(seed->len);
            g_byte_array_append(buf, seed->data, seed->len);
            for (unsigned m = 1 + rng_next() % 4; m > 0; m--) {
                mutate(buf, g_ptr_array_index(seeds, rng_next() % seeds->len));
            }
            LLVMFuzzerTestOneInput(buf->data, buf->len);
            g_byte_array_unref(buf);
            runs++;
        }
    }
    printf("%lu inputs from %u seeds, no crash\n", runs, seeds->len);
    g_ptr_array_unref(seeds);
    return 0;
}
