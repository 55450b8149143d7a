/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * libc.h: the test guest's tiny C library: port I/O, the console, string and
 * number helpers, printf-lite and key=value parameter parsing. Freestanding: no
 * host header beyond what the compiler itself provides.
 */
#ifndef GUEST_LIBC_H
#define GUEST_LIBC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/godwit-ports.h"

#define GUEST_PRINTF(a, b) __attribute__((format(printf, a, b)))

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* What the host told us at entry. */
typedef struct GuestInfo {
    uint64_t ram_size;
    uint64_t tsc_khz;
} GuestInfo;

void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* Decimal or 0x-hex; stops at a space or NUL. False on junk or overflow. */
bool parse_u64(const char *s, uint64_t *out);
/* Value of "key=value" among space-separated words, or def; *ok false on junk. */
uint64_t param_u64(const char *args, const char *key, uint64_t def, bool *ok);

/* Console: one exit per call (rep outsb). */
void console_write(const char *s, size_t n);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) GUEST_PRINTF(3, 4);
/* %d %i %u %x %c %s %p %%, with l/ll, width and 0 flag. At most 255 bytes. */
int printf(const char *fmt, ...) GUEST_PRINTF(1, 2);

static inline void guest_progress(uint32_t v)
{
    outl(GODWIT_PORT_PROGRESS, v);
}

#endif /* GUEST_LIBC_H */
