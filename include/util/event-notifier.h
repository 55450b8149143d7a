/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * event-notifier.h: a wake-up flag backed by an eventfd (KVM's ioeventfd/irqfd,
 * AIO completions and cross-thread kicks all use it). Setting is thread-safe and
 * async-signal-safe; test_and_clear consumes every pending set at once.
 */
#ifndef GODWIT_EVENT_NOTIFIER_H
#define GODWIT_EVENT_NOTIFIER_H

#include "util/osdep.h"

typedef struct EventNotifier {
    int fd;                   /* eventfd, -1 when not initialised */
} EventNotifier;

typedef void EventNotifierHandler(EventNotifier *e);

/* Create the eventfd (non-blocking, close-on-exec); active = start out set. -errno. */
int event_notifier_init(EventNotifier *e, bool active);
void event_notifier_cleanup(EventNotifier *e);
int event_notifier_set(EventNotifier *e);              /* 0 or -errno */
bool event_notifier_test_and_clear(EventNotifier *e);  /* was it set? */
int event_notifier_get_fd(const EventNotifier *e);

#endif /* GODWIT_EVENT_NOTIFIER_H */
