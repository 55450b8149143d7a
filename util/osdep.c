/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 */
#include "util/osdep.h"

size_t qemu_real_host_page_size(void)
{
    static size_t page_size;

    if (!page_size) {
        page_size = (size_t)sysconf(_SC_PAGESIZE);
    }
    return page_size;
}
