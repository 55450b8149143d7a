/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * The order in which query-commands lists commands: the order observed from
 * QEMU 7.2.22 (qemu-system-x86_64 -machine none), which is not alphabetical.
 * query-commands lists the commands we have in this order; commands QEMU does
 * not list come last, alphabetically.
 */
#include "util/osdep.h"
#include "monitor-internal.h"

const char *const qmp_command_order[] = {
    "device_add", "x-query-virtio-queue-element", "x-query-virtio-vhost-queue-status",
    "x-query-virtio-queue-status", "x-query-virtio-status", "x-query-virtio",
    "query-stats-schemas", "query-stats", "query-pci", "query-acpi-ospm-status",
    "query-sgx-capabilities", "query-sgx", "query-sev-attestation-report",
    "sev-inject-launch-secret", "query-sev-capabilities", "query-sev-launch-measure",
    "query-sev", "rtc-reset-reinjection", "query-command-line-options", "query-fdsets",
    "remove-fd", "add-fd", "closefd", "getfd", "human-monitor-command", "x-exit-preconfig",
    "cont", "stop", "query-iothreads", "query-name", "add_client", "query-yank", "yank",
    "replay-seek", "replay-delete-break", "replay-break", "query-replay",
    "query-cpu-definitions", "query-cpu-model-expansion", "dumpdtb", "x-query-usb",
    "x-query-roms", "x-query-rdma", "x-query-ramblock", "x-query-profile", "x-query-opcount",
    "x-query-numa", "x-query-jit", "x-query-irq", "query-memory-devices",
    "query-memory-size-summary", "query-balloon", "balloon", "set-numa-node",
    "query-hotpluggable-cpus", "query-memdev", "pmemsave", "memsave", "query-kvm",
    "inject-nmi", "system_wakeup", "system_powerdown", "system_reset",
    "query-vm-generation-id", "query-uuid", "query-target", "query-current-machine",
    "query-machines", "query-cpus-fast", "device_del", "device-list-properties", "object-del",
    "object-add", "qom-list-properties", "qom-list-types", "qom-set", "qom-get", "qom-list",
    "query-qmp-schema", "quit", "query-commands", "query-version", "qmp_capabilities",
    "trace-event-set-state", "trace-event-get-state", "transaction", "snapshot-delete",
    "snapshot-load", "snapshot-save", "query-vcpu-dirty-limit", "cancel-vcpu-dirty-limit",
    "set-vcpu-dirty-limit", "query-dirty-rate", "calc-dirty-rate", "migrate-pause",
    "migrate-recover", "query-colo-status", "xen-colo-do-checkpoint",
    "query-xen-replication-status", "xen-set-replication", "xen-load-devices-state",
    "xen-set-global-dirty-log", "xen-save-devices-state", "migrate-incoming", "migrate",
    "migrate-continue", "migrate_cancel", "x-colo-lost-heartbeat", "migrate-start-postcopy",
    "client_migrate_info", "query-migrate-parameters", "migrate-set-parameters",
    "query-migrate-capabilities", "migrate-set-capabilities", "query-migrate",
    "display-update", "display-reload", "query-display-options", "input-send-event",
    "send-key", "query-mice", "change-vnc-password", "query-vnc-servers", "query-vnc",
    "query-spice", "screendump", "expire_password", "set_password", "query-tpm",
    "query-tpm-types", "query-tpm-models", "query-rocker-of-dpa-groups",
    "query-rocker-of-dpa-flows", "query-rocker-ports", "query-rocker", "announce-self",
    "query-rx-filter", "netdev_del", "netdev_add", "set_link",
    "query-dump-guest-memory-capability", "query-dump", "dump-guest-memory",
    "chardev-send-break", "chardev-remove", "chardev-change", "chardev-add", "ringbuf-read",
    "ringbuf-write", "query-chardev-backends", "query-chardev", "query-block-exports",
    "block-export-del", "block-export-add", "nbd-server-stop", "nbd-server-remove",
    "nbd-server-add", "nbd-server-start", "query-jobs", "job-finalize", "job-dismiss",
    "job-complete", "job-cancel", "job-resume", "job-pause",
    "blockdev-snapshot-delete-internal-sync", "blockdev-snapshot-internal-sync",
    "x-blockdev-set-iothread", "x-blockdev-change", "block-set-write-threshold",
    "x-blockdev-amend", "blockdev-create", "blockdev-del", "blockdev-reopen", "blockdev-add",
    "block-job-finalize", "block-job-dismiss", "block-job-complete", "block-job-resume",
    "block-job-pause", "block-job-cancel", "block-job-set-speed", "block-stream",
    "blockdev-mirror", "x-debug-block-dirty-bitmap-sha256", "block-dirty-bitmap-merge",
    "block-dirty-bitmap-disable", "block-dirty-bitmap-enable", "block-dirty-bitmap-clear",
    "block-dirty-bitmap-remove", "block-dirty-bitmap-add", "drive-mirror",
    "x-debug-query-block-graph", "query-named-block-nodes", "blockdev-backup", "drive-backup",
    "block-commit", "change-backing-file", "blockdev-snapshot", "blockdev-snapshot-sync",
    "block_resize", "query-block-jobs", "query-blockstats", "query-block",
    "block-latency-histogram-set", "block_set_io_throttle", "blockdev-change-medium",
    "blockdev-insert-medium", "blockdev-remove-medium", "blockdev-close-tray",
    "blockdev-open-tray", "eject", "query-pr-managers", "set-action", "watchdog-set-action",
    "query-status",
    NULL
};
