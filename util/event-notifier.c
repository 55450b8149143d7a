/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * event-notifier.c: EventNotifier on an eventfd (contract in include/util/event-notifier.h).
 */
#include "util/osdep.h"
#include "util/event-notifier.h"

#include <sys/eventfd.h>

int event_notifier_init(EventNotifier *e, bool active)
{
    e->fd = eventfd(active ? 1 : 0, EFD_NONBLOCK | EFD_CLOEXEC);
    return e->fd < 0 ? -errno : 0;
}

void event_notifier_cleanup(EventNotifier *e)
{
    if (e->fd >= 0) {
        close(e->fd);
    }
    e->fd = -1;
}

int event_notifier_set(EventNotifier *e)
{
    uint64_t one = 1;
    ssize_t ret;

    do {
        ret = write(e->fd, &one, sizeof(one));
    } while (ret < 0 && errno == EINTR);
    /* EAGAIN: the counter is saturated, so the notifier is set anyway. */
    if (ret < 0 && errno != EAGAIN) {
        return -errno;
    }
    return 0;
}

bool event_notifier_test_and_clear(EventNotifier *e)
{
    uint64_t value;
    ssize_t ret;

    do {
        ret = read(e->fd, &value, sizeof(value));
    } while (ret < 0 && errno == EINTR);
    return ret == sizeof(value) && value > 0;
}

int event_notifier_get_fd(const EventNotifier *e)
{
    return e->fd;
}
