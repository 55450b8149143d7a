/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * e2e-util: helpers shared by the in-process e2e programs (see e2e-util.h).
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "e2e-util.h"

#include <fcntl.h>

void e2e_console_init(E2eConsole *c)
{
    g_mutex_init(&c->lock);
    c->text = g_string_new("");
}

void e2e_console_destroy(E2eConsole *c)
{
    g_string_free(c->text, true);
    g_mutex_clear(&c->lock);
}

void e2e_console_write(void *opaque, const uint8_t *buf, size_t len)
{
    E2eConsole *c = opaque;

    g_mutex_lock(&c->lock);
    g_string_append_len(c->text, (const char *)buf, len);
    g_mutex_unlock(&c->lock);
}

char *e2e_console_text(E2eConsole *c)
{
    g_mutex_lock(&c->lock);
    char *s = g_strdup(c->text->str);
    g_mutex_unlock(&c->lock);
    return s;
}

void e2e_console_assert_has(E2eConsole *c, const char *needle)
{
    g_autofree char *out = e2e_console_text(c);

    if (!strstr(out, needle)) {
        g_test_message("console:\n%s", out);
        g_error("console lacks '%s'", needle);
    }
}

int e2e_exit_status(E2eConsole *c, const MachineExit *e)
{
    if (e->reason != KVM_GODWIT_STOP_REQUESTED) {
        g_autofree char *out = e2e_console_text(c);

        g_test_message("console:\n%s", out);
        g_error("guest stopped (%s): %s", kvm_stop_reason_name(e->reason), e->message);
    }
    return e->status;
}

bool e2e_kvm_usable(const char *what)
{
    Error *err = NULL;

    if (!kvm_available(&err)) {
        fprintf(stderr, "\n*** SKIP: %s need a usable /dev/kvm: %s ***\n\n", what,
                error_get_pretty(err));
        error_free(err);
        return false;
    }
    return true;
}

char *e2e_make_image(const char *dir, const char *name, uint64_t size)
{
    char *path = g_build_filename(dir, name, NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

void e2e_remove_dir(const char *dir)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

    if (system(cmd)) {
        /* best effort: a leftover scratch directory fails nothing */
    }
}

VirtIOMMIOProxy *e2e_virtio_mmio_attach(Machine *m, VirtIOBlock *dev, Error **errp)
{
    uint64_t ram_size;
    void *ram = machine_ram(m, &ram_size);
    VirtioGuestMem mem = { .base = ram, .size = ram_size };

    return virtio_mmio_create(machine_vm(m), GODWIT_VIRTIO_MMIO_BASE, GODWIT_VIRTIO_MMIO_GSI,
                              virtio_blk_vdev(dev), mem, qemu_get_aio_context(), errp);
}
