/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Machine types and device models (contract in include/sysemu/machine.h).
 */
#include "util/osdep.h"
#include "sysemu/machine.h"

static const MachineType machine_types[] = {
    { "godwit", "Godwit KVM machine (virtio-mmio)", true, 16 },
    { "none", "empty machine", false, 1 },
};

typedef struct DeviceModel {
    const char *category;
    const char *name;
    const char *bus;
    const char *alias;
} DeviceModel;

static const DeviceModel device_models[] = {
    { "Storage devices", "virtio-blk-device", "virtio-bus", "virtio-blk" },
};

const MachineType *machine_find(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(machine_types); i++) {
        if (name ? !strcmp(machine_types[i].name, name) : machine_types[i].is_default) {
            return &machine_types[i];
        }
    }
    return NULL;
}

const MachineType *machine_type_at(size_t i)
{
    return i < G_N_ELEMENTS(machine_types) ? &machine_types[i] : NULL;
}

void machine_print_help(void)
{
    printf("Supported machines are:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(machine_types); i++) {
        printf("%-20s %s%s\n", machine_types[i].name, machine_types[i].desc,
               machine_types[i].is_default ? " (default)" : "");
    }
}

void device_print_help(void)
{
    const char *category = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(device_models); i++) {
        const DeviceModel *d = &device_models[i];
        if (!category || strcmp(category, d->category)) {
            printf("%s%s:\n", category ? "\n" : "", d->category);
            category = d->category;
        }
        printf("name \"%s\", bus %s", d->name, d->bus);
        if (d->alias) {
            printf(", alias \"%s\"", d->alias);
        }
        printf("\n");
    }
}

const char *device_model_find(const char *driver)
{
    for (size_t i = 0; i < G_N_ELEMENTS(device_models); i++) {
        const DeviceModel *d = &device_models[i];
        if (!strcmp(d->name, driver) || (d->alias && !strcmp(d->alias, driver))) {
            return d->name;
        }
    }
    return NULL;
}
