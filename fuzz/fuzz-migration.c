/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * fuzz-migration: bytes as an incoming migration stream, loaded by the real loader
 * (mig_load_stream) into a machine-less device set: the machine marker, a block
 * device (null-co, 4 MiB: block records, progress, zero chunks), and a vmstate
 * section with scalars, a bounded count and a variable array, so the generic
 * field-table loader is covered as it is for the vCPU and virtio state.
 */
#include "util/osdep.h"
#include "util/aio.h"
#include "block/block-backend.h"
#include "migration/migration.h"
#include "migration/vmstate.h"

typedef struct FuzzDev {
    uint8_t a;
    uint16_t b;
    uint32_t n;
    uint64_t c;
    uint8_t raw[24];
    uint32_t arr[8];
} FuzzDev;

static const VMStateField fuzz_fields[] = {
    VMSTATE_U8(FuzzDev, a),
    VMSTATE_U16(FuzzDev, b),
    VMSTATE_U32_MAX(FuzzDev, n, 8),
    VMSTATE_U64(FuzzDev, c),
    VMSTATE_BUFFER(FuzzDev, raw),
    VMSTATE_VARRAY_BUFFER(FuzzDev, arr, 2),
    VMSTATE_END,
};
static const VMStateDesc fuzz_desc = { "fuzzdev", fuzz_fields };

static int coroutine_fn fuzz_dev_load(MigStream *f, void *opaque, uint8_t type,
                                      uint32_t version, Error **errp)
{
    FuzzDev d = { 0 };

    return vmstate_load(f, &fuzz_desc, &d, errp) ? 0 : -EINVAL;
}

static const MigSectionOps fuzz_dev_ops = { .load = fuzz_dev_load, .optional = true };

typedef struct FuzzRun {
    MigRegistry *reg;
    MigStream *f;
    bool done;
} FuzzRun;

static void coroutine_fn fuzz_co(void *opaque)
{
    FuzzRun *r = opaque;
    Error *err = NULL;

    mig_load_stream(r->reg, r->f, &err);
    error_free(err);
    r->done = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static MigRegistry *reg;

    if (!reg) {
        QDict *opts = qdict_new();
        qdict_put_str(opts, "driver", "null-co");
        qdict_put_int(opts, "size", 4 * MiB);
        BlockBackend *blk = blk_new_open(NULL, NULL, opts, BDRV_O_RDWR, &error_abort);
        const char *names[] = { "disk0" };

        reg = mig_registry_new();
        machine_marker_register(reg, "none");
        mig_register(reg, "fuzzdev", 0, 1, &fuzz_dev_ops, NULL);
        block_migration_register_list(reg, 1, names, &blk);
    }
    FuzzRun r = { .reg = reg, .f = mig_stream_new_input_mem(data, size) };
    Coroutine *co = qemu_coroutine_create(fuzz_co, &r);
    qemu_coroutine_enter(co);
    while (!r.done) {
        aio_poll(qemu_get_aio_context(), true);
    }
    mig_stream_free(r.f);
    return 0;
}
