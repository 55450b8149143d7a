/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * test-virtio-queue: the split virtqueue device side (hw/virtio/virtio.c) against
 * well-formed and hostile descriptor tables in a fake guest memory buffer, without
 * KVM: loops, out-of-range indexes and addresses, huge and overflowing lengths,
 * bad indirect tables, EVENT_IDX, and a reset while an element is in flight.
 */
#include "util/osdep.h"
#include "hw/virtio/virtio.h"

#define RAM_SIZE   (1 * MiB)
#define QSIZE      8
#define DESC_GPA   0x1000
#define AVAIL_GPA  0x2000
#define USED_GPA   0x3000
#define BUF_GPA    0x10000

typedef struct Fixture {
    uint8_t *ram;
    VirtIODevice vdev;
    VirtQueue *vq;
    uint16_t avail_idx;
    unsigned notifies;
} Fixture;

static void fx_notify(void *opaque, unsigned bits)
{
    Fixture *f = opaque;
    f->notifies++;
}

static const VirtioTransportOps fx_transport = { .notify = fx_notify };
static const VirtIODeviceOps fx_ops = { 0 };

static void fx_handle(VirtIODevice *vdev, VirtQueue *vq)
{
}

static VRingDesc *desc(Fixture *f)
{
    return (VRingDesc *)(f->ram + DESC_GPA);
}

static uint16_t *avail(Fixture *f)
{
    return (uint16_t *)(f->ram + AVAIL_GPA);
}

static uint16_t *used(Fixture *f)
{
    return (uint16_t *)(f->ram + USED_GPA);
}

static void fx_init(Fixture *f, uint64_t features)
{
    memset(f, 0, sizeof(*f));
    f->ram = g_malloc0(RAM_SIZE);
    virtio_init(&f->vdev, "test-dev", 2, &fx_ops, 0, features, 1, QSIZE, fx_handle);
    virtio_set_guest_mem(&f->vdev, (VirtioGuestMem) { .base = f->ram, .size = RAM_SIZE });
    f->vdev.transport = &fx_transport;
    f->vdev.transport_opaque = f;
    f->vdev.guest_features = features;
    f->vq = &f->vdev.vq[0];
    f->vq->num = QSIZE;
    f->vq->desc_gpa = DESC_GPA;
    f->vq->avail_gpa = AVAIL_GPA;
    f->vq->used_gpa = USED_GPA;
    g_assert_true(virtio_queue_set_ready(f->vq, true));
    virtio_set_status(&f->vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                      VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
    g_assert_true(f->vdev.status & VIRTIO_CONFIG_S_FEATURES_OK);
}

static void fx_cleanup(Fixture *f)
{
    virtio_cleanup(&f->vdev);
    g_free(f->ram);
}

static void set_desc(Fixture *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    desc(f)[i] = (VRingDesc) { .addr = addr, .len = len, .flags = flags, .next = next };
}

static void make_avail(Fixture *f, uint16_t head)
{
    avail(f)[2 + f->avail_idx % QSIZE] = head;
    avail(f)[1] = ++f->avail_idx;
}

/* Pop and expect a driver error: NULL, -EINVAL, device broken with NEEDS_RESET. */
static void expect_broken(Fixture *f)
{
    int err;
    void *e = virtqueue_pop(f->vq, sizeof(VirtQueueElement), &err);
    g_assert_null(e);
    g_assert_cmpint(err, ==, -EINVAL);
    g_assert_true(f->vdev.broken);
    g_assert_true(f->vdev.status & VIRTIO_CONFIG_S_NEEDS_RESET);
    g_assert_true(f->vdev.isr & 2);
    /* and stays unusable until a reset */
    g_assert_null(virtqueue_pop(f->vq, sizeof(VirtQueueElement), &err));
    g_assert_cmpint(err, ==, 0);
}

static const uint64_t BASE_FEATURES = (1ULL << VIRTIO_F_VERSION_1) |
                                      (1ULL << VIRTIO_RING_F_INDIRECT_DESC);

static void test_good_chain(void)
{
    Fixture f;
    int err;

    fx_init(&f, BASE_FEATURES);
    set_desc(&f, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 5);
    set_desc(&f, 5, BUF_GPA + 0x1000, 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
    set_desc(&f, 2, BUF_GPA + 0x3000, 1, VRING_DESC_F_WRITE, 0);
    make_avail(&f, 0);
    VirtQueueElement *e = virtqueue_pop(f.vq, sizeof(VirtQueueElement), &err);
    g_assert_nonnull(e);
    g_assert_cmpuint(e->index, ==, 0);
    g_assert_cmpuint(e->out_num, ==, 1);
    g_assert_cmpuint(e->in_num, ==, 2);
    g_assert_cmpuint(e->out_len, ==, 16);
    g_assert_cmpuint(e->in_len, ==, 4097);
    g_assert_true(e->out_sg[0].iov_base == f.ram + BUF_GPA);       /* zero-copy */
    g_assert_true(e->in_sg[1].iov_base == f.ram + BUF_GPA + 0x3000);
    g_assert_null(virtqueue_pop(f.vq, sizeof(VirtQueueElement), &err));
    g_assert_cmpint(err, ==, 0);
    virtqueue_push(f.vq, e, 4097);
    g_assert_cmpuint(used(&f)[1], ==, 1);
    VRingUsedElem *u = (VRingUsedElem *)(used(&f) + 2);
    g_assert_cmpuint(u[0].id, ==, 0);
    g_assert_cmpuint(u[0].len, ==, 4097);
    virtio_notify(&f.vdev, f.vq);                /* no NO_INTERRUPT flag: notify */
    g_assert_cmpuint(f.notifies, ==, 1);
    avail(&f)[0] = VRING_AVAIL_F_NO_INTERRUPT;
    virtio_notify(&f.vdev, f.vq);
    g_assert_cmpuint(f.notifies, ==, 1);
    g_free(e);
    fx_cleanup(&f);
}

static void test_loop(void)
{
    Fixture f;

    fx_init(&f, BASE_FEATURES);
    set_desc(&f, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
    set_desc(&f, 1, BUF_GPA, 16, VRING_DESC_F_NEXT, 0);         /* 0 -> 1 -> 0 ... */
    make_avail(&f, 0);
    expect_broken(&f);
    fx_cleanup(&f);

    fx_init(&f, BASE_FEATURES);
    set_desc(&f, 3, BUF_GPA, 16, VRING_DESC_F_NEXT, 3);         /* self loop */
    make_avail(&f, 3);
    expect_broken(&f);
    fx_cleanup(&f);
}

static void test_bad_indexes(void)
{
    Fixture f;

    fx_init(&f, BASE_FEATURES);
    make_avail(&f, QSIZE);                                       /* head out of range */
    expect_broken(&f);
    fx_cleanup(&f);

    fx_init(&f, BASE_FEATURES);
    set_desc(&f, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 0xffff);     /* next out of range */
    make_avail(&f, 0);
    expect_broken(&f);
    fx_cleanup(&f);

    fx_init(&f, BASE_FEATURES);
    avail(&f)[1] = QSIZE + 1;                                    /* avail idx runs ahead */
    expect_broken(&f);
    fx_cleanup(&f);
}

static void test_bad_addresses(void)
{
    static const struct {
        uint64_t addr;
        uint32_t len;
    } cases[] = {
        { RAM_SIZE - 10, 100 },                  /* crosses the end of RAM */
        { RAM_SIZE, 1 },                         /* just past it */
        { 0, 0xffffffff },                       /* huge length */
        { 0xfffffffffffffff0ULL, 0x20 },         /* wraps around 2^64 */
        { 0xd0000000ULL, 4 },                    /* MMIO, not RAM */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        Fixture f;
        fx_init(&f, BASE_FEATURES);
        set_desc(&f, 0, cases[i].addr, cases[i].len, 0, 0);
        make_avail(&f, 0);
        expect_broken(&f);
        fx_cleanup(&f);
    }
}

static void test_order_and_limits(void)
{
    Fixture f;
    int err;

    /* device-readable after device-writable */
    fx_init(&f, BASE_FEATURES);
    set_desc(&f, 0, BUF_GPA, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
    set_desc(&f, 1, BUF_GPA, 16, 0, 0);
    make_avail(&f, 0);
    expect_broken(&f);
    fx_cleanup(&f);

    /* total length above 4 GiB through an indirect table of big buffers */
    fx_init(&f, BASE_FEATURES);
    VRingDesc *t = (VRingDesc *)(f.ram + 0x8000);
    for (int i = 0; i < 3; i++) {
        t[i] = (VRingDesc) { 0, RAM_SIZE, VRING_DESC_F_NEXT, i + 1 };
    }
    t[3] = (VRingDesc) { 0, RAM_SIZE, 0, 0 };
    set_desc(&f, 0, 0x8000, 4 * sizeof(VRingDesc), VRING_DESC_F_INDIRECT, 0);
    make_avail(&f, 0);
    VirtQueueElement *e = virtqueue_pop(f.vq, sizeof(*e), &err);  /* 4 MiB: fine */
    g_assert_nonnull(e);
    g_assert_cmpuint(e->out_len, ==, 4 * RAM_SIZE);
    g_free(e);
    fx_cleanup(&f);
}

static void test_indirect(void)
{
    Fixture f;
    int err;
    VRingDesc *t;

    /* good: header descriptor, then an indirect table of two buffers */
    fx_init(&f, BASE_FEATURES);
    t = (VRingDesc *)(f.ram + 0x8000);
    t[0] = (VRingDesc) { BUF_GPA, 512, VRING_DESC_F_NEXT, 1 };
    t[1] = (VRingDesc) { BUF_GPA + 512, 1, VRING_DESC_F_WRITE, 0 };
    set_desc(&f, 4, BUF_GPA + 0x2000, 16, VRING_DESC_F_NEXT, 6);
    set_desc(&f, 6, 0x8000, 2 * sizeof(VRingDesc), VRING_DESC_F_INDIRECT, 0);
    make_avail(&f, 4);
    VirtQueueElement *e = virtqueue_pop(f.vq, sizeof(*e), &err);
    g_assert_nonnull(e);
    g_assert_cmpuint(e->out_num, ==, 2);
    g_assert_cmpuint(e->in_num, ==, 1);
    g_assert_cmpuint(e->index, ==, 4);
    g_free(e);
    fx_cleanup(&f);

    /* nested indirect, INDIRECT|NEXT, bad sizes, table outside RAM, loop inside */
    const struct {
        uint64_t addr;
        uint32_t len;
        uint16_t flags;
        VRingDesc t0;
    } bad[] = {
        { 0x8000, 16, VRING_DESC_F_INDIRECT, { 0x8000, 16, VRING_DESC_F_INDIRECT, 0 } },
        { 0x8000, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, { BUF_GPA, 16, 0, 0 } },
        { 0x8000, 24, VRING_DESC_F_INDIRECT, { BUF_GPA, 16, 0, 0 } },
        { 0x8000, 0, VRING_DESC_F_INDIRECT, { BUF_GPA, 16, 0, 0 } },
        { 0x8000, 16 * (VIRTQUEUE_MAX_SIZE + 1), VRING_DESC_F_INDIRECT, { BUF_GPA, 16, 0, 0 } },
        { RAM_SIZE - 8, 16, VRING_DESC_F_INDIRECT, { BUF_GPA, 16, 0, 0 } },
        { 0x8000, 16, VRING_DESC_F_INDIRECT, { BUF_GPA, 16, VRING_DESC_F_NEXT, 0 } },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        fx_init(&f, BASE_FEATURES);
        *(VRingDesc *)(f.ram + 0x8000) = bad[i].t0;
        set_desc(&f, 0, bad[i].addr, bad[i].len, bad[i].flags, 1);
        make_avail(&f, 0);
        expect_broken(&f);
        fx_cleanup(&f);
    }

    /* indirect without the feature negotiated */
    fx_init(&f, 1ULL << VIRTIO_F_VERSION_1);
    *(VRingDesc *)(f.ram + 0x8000) = (VRingDesc) { BUF_GPA, 16, 0, 0 };
    set_desc(&f, 0, 0x8000, 16, VRING_DESC_F_INDIRECT, 0);
    make_avail(&f, 0);
    expect_broken(&f);
    fx_cleanup(&f);
}

static void test_event_idx(void)
{
    Fixture f;
    int err;

    fx_init(&f, BASE_FEATURES | (1ULL << VIRTIO_RING_F_EVENT_IDX));
    uint16_t *used_event = &avail(&f)[2 + QSIZE];
    uint16_t *avail_event = (uint16_t *)((VRingUsedElem *)(used(&f) + 2) + QSIZE);
    for (int i = 0; i < 3; i++) {
        set_desc(&f, i, BUF_GPA, 1, VRING_DESC_F_WRITE, 0);
        make_avail(&f, i);
    }
    VirtQueueElement *e[3];
    for (int i = 0; i < 3; i++) {
        e[i] = virtqueue_pop(f.vq, sizeof(VirtQueueElement), &err);
        g_assert_nonnull(e[i]);
    }
    g_assert_false(virtqueue_rearm(f.vq));
    g_assert_cmpuint(*avail_event, ==, 3);            /* kick me at the 4th buffer */
    make_avail(&f, 0);
    g_assert_true(virtqueue_rearm(f.vq));             /* it arrived meanwhile */

    *used_event = 1;                                  /* interrupt once used idx passes 1 */
    virtqueue_push(f.vq, e[0], 1);
    g_assert_true(virtqueue_should_notify(f.vq));     /* first decision always notifies */
    virtqueue_push(f.vq, e[1], 1);
    g_assert_true(virtqueue_should_notify(f.vq));     /* 1 -> 2 crosses used_event 1 */
    virtqueue_push(f.vq, e[2], 1);
    g_assert_false(virtqueue_should_notify(f.vq));    /* 2 -> 3 does not */
    g_assert_false(virtqueue_should_notify(f.vq));    /* nothing new */
    for (int i = 0; i < 3; i++) {
        g_free(e[i]);
    }
    fx_cleanup(&f);
}

static void test_reset_waits_for_inflight(void)
{
    Fixture f;
    int err;

    fx_init(&f, BASE_FEATURES);
    set_desc(&f, 0, BUF_GPA, 1, VRING_DESC_F_WRITE, 0);
    make_avail(&f, 0);
    VirtQueueElement *e = virtqueue_pop(f.vq, sizeof(*e), &err);
    g_assert_nonnull(e);
    virtio_set_status(&f.vdev, 0);
    g_assert_true(f.vdev.reset_pending);
    g_assert_cmpuint(f.vdev.status, !=, 0);           /* the driver keeps polling */
    g_assert_false(virtio_queue_usable(f.vq));
    virtqueue_push(f.vq, e, 1);                       /* the last request ends */
    g_assert_false(f.vdev.reset_pending);
    g_assert_cmpuint(f.vdev.status, ==, 0);
    g_assert_false(f.vq->ready);
    g_free(e);

    /* a driver without VERSION_1 is refused at FEATURES_OK */
    f.vdev.guest_features = 0;
    virtio_set_status(&f.vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                      VIRTIO_CONFIG_S_FEATURES_OK);
    g_assert_false(f.vdev.status & VIRTIO_CONFIG_S_FEATURES_OK);
    fx_cleanup(&f);
}

/*
 * The driver disables a queue with an element in flight and, as the transport
 * allows for a queue that is not ready, sets its size to 0 (or larger, or moves
 * the rings). The late push must neither divide by the new size nor write past
 * the old used ring (found by fuzz-virtqueue: SIGFPE in virtqueue_push).
 */
static void test_resize_while_inflight(void)
{
    Fixture f;
    int err;

    for (unsigned new_num = 0; new_num <= 256; new_num += 256) {
        for (int via_reset = 0; via_reset < 2; via_reset++) {
            fx_init(&f, BASE_FEATURES | (1ULL << VIRTIO_RING_F_EVENT_IDX));
            set_desc(&f, 0, BUF_GPA, 1, VRING_DESC_F_WRITE, 0);
            make_avail(&f, 0);
            VirtQueueElement *e = virtqueue_pop(f.vq, sizeof(*e), &err);
            g_assert_nonnull(e);
            if (via_reset) {
                virtio_set_status(&f.vdev, 0);
                g_assert_true(f.vdev.reset_pending);
            } else {
                g_assert_true(virtio_queue_set_ready(f.vq, false));
            }
            f.vq->num = new_num;
            f.vq->used_gpa = RAM_SIZE - 16;
            virtqueue_push(f.vq, e, 1);                /* dropped, not written */
            g_assert_cmpuint(used(&f)[1], ==, 0);
            g_assert_false(virtqueue_should_notify(f.vq));
            g_assert_false(virtqueue_rearm(f.vq));
            g_assert_cmpuint(virtio_inuse(&f.vdev), ==, 0);
            g_assert_false(f.vdev.reset_pending);
            g_free(e);
            fx_cleanup(&f);
        }
    }
}

static void test_bad_queue_setup(void)
{
    Fixture f;

    fx_init(&f, BASE_FEATURES);
    f.vq->ready = false;
    f.vq->num = 6;                                    /* not a power of two */
    g_assert_false(virtio_queue_set_ready(f.vq, true));
    f.vdev.broken = false;
    f.vq->num = QSIZE;
    f.vq->used_gpa = RAM_SIZE - 8;                    /* used ring past the end */
    g_assert_false(virtio_queue_set_ready(f.vq, true));
    f.vdev.broken = false;
    f.vq->used_gpa = USED_GPA + 2;                    /* misaligned */
    g_assert_false(virtio_queue_set_ready(f.vq, true));
    g_assert_false(f.vq->ready);
    fx_cleanup(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio/queue/good-chain", test_good_chain);
    g_test_add_func("/virtio/queue/hostile/loop", test_loop);
    g_test_add_func("/virtio/queue/hostile/indexes", test_bad_indexes);
    g_test_add_func("/virtio/queue/hostile/addresses", test_bad_addresses);
    g_test_add_func("/virtio/queue/hostile/order-and-limits", test_order_and_limits);
    g_test_add_func("/virtio/queue/indirect", test_indirect);
    g_test_add_func("/virtio/queue/event-idx", test_event_idx);
    g_test_add_func("/virtio/queue/reset-waits-for-inflight", test_reset_waits_for_inflight);
    g_test_add_func("/virtio/queue/bad-setup", test_bad_queue_setup);
    g_test_add_func("/virtio/queue/resize-while-inflight", test_resize_while_inflight);
    return g_test_run();
}
