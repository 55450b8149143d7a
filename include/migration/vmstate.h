/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * vmstate.h: device and vCPU state as plain structs described by declarative
 * field tables, saved and loaded by one generic pair of functions
 * (migration/vmstate.c), so one fuzz target covers every device.
 *
 * A table lists fields in order. On the wire each field is
 *     str8 name | be32 length | payload
 * scalars big-endian; BUFFER fields raw (KVM structs in host layout); arrays
 * element after element. The loader accepts only the exact table: every name in
 * order, every length equal to what the table and the already-loaded counts
 * imply, scalars within their bounds, counts within the array's capacity.
 * A count field must come before the array that uses it.
 *
 * Threads: none; nothing here yields except through a stream's gets.
 */
#ifndef GODWIT_MIGRATION_VMSTATE_H
#define GODWIT_MIGRATION_VMSTATE_H

#include "migration/stream.h"

typedef enum VMStateType {
    VMS_U8,
    VMS_U16,
    VMS_U32,
    VMS_U64,
    VMS_BOOL,
    VMS_BUFFER,            /* raw bytes: size per element, count elements */
    VMS_STRUCT,            /* sub-described elements: size per element, count elements */
} VMStateType;

typedef struct VMStateDesc VMStateDesc;

typedef struct VMStateField {
    const char *name;
    VMStateType type;
    size_t offset;         /* in the struct */
    size_t size;           /* BUFFER/STRUCT: bytes per element */
    uint64_t max;          /* scalars: largest valid value (0: any); arrays: capacity */
    int count_field;       /* arrays: index in this table of a U32 count; -1: max elements */
    const VMStateDesc *sub;
} VMStateField;

struct VMStateDesc {
    const char *name;
    const VMStateField *fields;     /* terminated by a NULL name */
};

#define VMSTATE_SCALAR(st, f, t, mx) \
    { .name = #f, .type = (t), .offset = offsetof(st, f), .size = sizeof(((st *)0)->f), \
      .max = (mx), .count_field = -1 }
#define VMSTATE_U8(st, f)        VMSTATE_SCALAR(st, f, VMS_U8, 0)
#define VMSTATE_U16(st, f)       VMSTATE_SCALAR(st, f, VMS_U16, 0)
#define VMSTATE_U32(st, f)       VMSTATE_SCALAR(st, f, VMS_U32, 0)
#define VMSTATE_U32_MAX(st, f, m) VMSTATE_SCALAR(st, f, VMS_U32, m)
#define VMSTATE_U64(st, f)       VMSTATE_SCALAR(st, f, VMS_U64, 0)
#define VMSTATE_BOOL(st, f)      VMSTATE_SCALAR(st, f, VMS_BOOL, 1)
/* A fixed-size struct or byte array copied as it is. */
#define VMSTATE_BUFFER(st, f) \
    { .name = #f, .type = VMS_BUFFER, .offset = offsetof(st, f), \
      .size = sizeof(((st *)0)->f), .max = 1, .count_field = -1 }
/* Array f of raw elements, count in field number cf of the table. */
#define VMSTATE_VARRAY_BUFFER(st, f, cf) \
    { .name = #f, .type = VMS_BUFFER, .offset = offsetof(st, f), \
      .size = sizeof(((st *)0)->f[0]), \
      .max = sizeof(((st *)0)->f) / sizeof(((st *)0)->f[0]), .count_field = (cf) }
/* Array f of described elements (desc), count in field cf (-1: all of them). */
#define VMSTATE_STRUCT_ARRAY(st, f, cf, desc) \
    { .name = #f, .type = VMS_STRUCT, .offset = offsetof(st, f), \
      .size = sizeof(((st *)0)->f[0]), \
      .max = sizeof(((st *)0)->f) / sizeof(((st *)0)->f[0]), .count_field = (cf), \
      .sub = (desc) }
/* One embedded struct f described by desc. */
#define VMSTATE_STRUCT(st, f, desc) \
    { .name = #f, .type = VMS_STRUCT, .offset = offsetof(st, f), \
      .size = sizeof(((st *)0)->f), .max = 1, .count_field = -1, .sub = (desc) }
#define VMSTATE_END { .name = NULL }

void vmstate_save(MigStream *f, const VMStateDesc *d, const void *obj);
/* Fill obj (which the caller zeroed or initialised); false with errp set on bad input. */
bool vmstate_load(MigStream *f, const VMStateDesc *d, void *obj, Error **errp);

#endif /* GODWIT_MIGRATION_VMSTATE_H */
