/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * godwit-ports.h: the guest-visible interface of the Godwit machine, shared by the
 * host (hw/godwit-machine.c) and the freestanding test guest (guest/). Plain
 * constants only, so it compiles without a C library.
 *
 * Entry: the vCPU starts in 64-bit mode at CPL3 at the program's entry point with
 *   RDI = guest-physical address of the NUL-terminated parameter string (-append)
 *   RSI = RAM size in bytes
 *   RDX = TSC frequency in kHz (0 if KVM does not know it)
 *   RSP = GODWIT_STACK_TOP, RFLAGS = IOPL 3, interrupts off.
 * Every address below 4 GiB is identity mapped (2 MiB pages, user accessible);
 * addresses that are not RAM reach the host as MMIO.
 *
 * Memory map (guest-physical):
 *   0x00001000  GDT           0x00010000  page tables (PML4, PDPT, 4 PDs)
 *   0x00020000  TSS + all-zero 8 KiB I/O bitmap (every port reaches the host)
 *   0x00030000  parameter string, at most GODWIT_APPEND_MAX bytes with the NUL
 *   0x00100000  program (flat binary entry, or ELF PT_LOAD segments at >= 1 MiB)
 *   0x00300000  initial stack top (the stack grows down towards the program)
 *   0x00400000  first byte free for the program's own use (GODWIT_FREE_RAM)
 */
#ifndef GODWIT_HW_PORTS_H
#define GODWIT_HW_PORTS_H

#define GODWIT_GDT_ADDR       0x1000
#define GODWIT_PT_ADDR        0x10000
#define GODWIT_TSS_ADDR       0x20000
#define GODWIT_APPEND_ADDR    0x30000
#define GODWIT_APPEND_MAX     4096
#define GODWIT_LOAD_ADDR      0x100000
#define GODWIT_STACK_TOP      0x300000
#define GODWIT_FREE_RAM       0x400000

/* Console: each byte written (out, 8 bit; rep outsb allowed) goes to the console. */
#define GODWIT_PORT_CONSOLE   0x3f8

/*
 * Exit: a 32-bit write (outl) ends the VM; the value is the VM's exit status
 * (0 = success). Narrower writes are ignored.
 */
#define GODWIT_PORT_EXIT      0x500

/*
 * Test device, 32-bit registers:
 *   GODWIT_PORT_PROGRESS  write: progress counter (e.g. passes completed); the host
 *                         keeps the last value and may call a hook; read: last value
 *   GODWIT_PORT_NULL      write: ignored, read: 0 (exit round-trip benchmarks)
 */
#define GODWIT_PORT_PROGRESS  0x504
#define GODWIT_PORT_NULL      0x508

/* An MMIO page nobody backs with RAM, answered like GODWIT_PORT_NULL. */
#define GODWIT_MMIO_NULL      0xfe000000ULL

/*
 * virtio-mmio devices (virtio 1.x "version 2" register layout, little-endian
 * 32-bit registers, device configuration at +0x100). Device n (0-based) has its
 * register window at GODWIT_VIRTIO_MMIO_BASE + n * GODWIT_VIRTIO_MMIO_STRIDE and
 * its interrupt on GSI GODWIT_VIRTIO_MMIO_GSI + n (IOAPIC pin; the CPL3 test guest
 * cannot take interrupts and polls the used ring instead). An empty slot reads
 * 0xffffffff. Device 0 is the first virtio-blk disk.
 *   QueueNotify (+0x50) writes of the queue index are caught by KVM (ioeventfd)
 *   and handled in the host's main loop, so a kick costs one exit in the kernel
 *   and no return to user space.
 */
#define GODWIT_VIRTIO_MMIO_BASE    0xd0000000ULL
#define GODWIT_VIRTIO_MMIO_STRIDE  0x1000
#define GODWIT_VIRTIO_MMIO_SIZE    0x200
#define GODWIT_VIRTIO_MMIO_MAX     8
#define GODWIT_VIRTIO_MMIO_GSI     5

#endif /* GODWIT_HW_PORTS_H */
