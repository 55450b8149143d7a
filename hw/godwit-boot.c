/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * godwit-boot.c: load a freestanding program and enter it in 64-bit mode at CPL3.
 *
 * No guest instruction runs in ring 0 (under PVM ring-0 code goes through KVM's
 * emulator, ~1000x slower, and some instructions fail there), so everything a
 * firmware or boot stub would do is done here through guest memory and
 * KVM_SET_SREGS/KVM_SET_REGS:
 *
 *   GDT  0x1000: 0x00 null | 0x08 kernel code L | 0x10 kernel data
 *                0x18 user code DPL3 L (selector 0x1b) | 0x20 user data DPL3 (0x23)
 *                0x28 64-bit TSS (16 bytes)
 *   PT   0x10000 PML4 -> 0x11000 PDPT -> 0x12000..0x15fff four PDs of 2 MiB pages,
 *                identity map of 4 GiB, present | writable | user
 *   TSS  0x20000: 104 bytes, iomap_base 104, 8 KiB of zero bits (every port is
 *                allowed at CPL3: the bitmap is checked even with IOPL 3), then 0xff
 */
#include "util/osdep.h"
#include "hw/godwit-machine-int.h"

#include <elf.h>
#include <sys/ioctl.h>

#define SEL_USER_CODE  0x1b
#define SEL_USER_DATA  0x23
#define SEL_TSS        0x28
#define GDT_ENTRIES    7                      /* the TSS takes two */
#define TSS_SIZE       104
#define TSS_IOMAP_SIZE 8192
#define TSS_LIMIT      (TSS_SIZE + TSS_IOMAP_SIZE)   /* inclusive: covers the 0xff terminator */

#define PTE_P   0x1ULL
#define PTE_RW  0x2ULL
#define PTE_US  0x4ULL
#define PTE_PS  0x80ULL

#define CR0_PE 0x1ULL
#define CR0_MP 0x2ULL
#define CR0_ET 0x10ULL
#define CR0_NE 0x20ULL
#define CR0_WP 0x10000ULL
#define CR0_AM 0x40000ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL
#define RFLAGS_FIXED 0x2ULL
#define RFLAGS_IOPL3 0x3000ULL

static uint64_t gdt_entry(uint32_t base, uint32_t limit, unsigned type, unsigned s, unsigned dpl,
                          unsigned l, unsigned db, unsigned g)
{
    return (limit & 0xffffULL) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)type << 40) |
           ((uint64_t)s << 44) | ((uint64_t)dpl << 45) | (1ULL << 47) |
           ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)l << 53) | ((uint64_t)db << 54) |
           ((uint64_t)g << 55) | ((uint64_t)(base >> 24) << 56);
}

static void machine_write_tables(Machine *m)
{
    uint8_t *ram = m->ram;
    uint64_t *gdt = (uint64_t *)(ram + GODWIT_GDT_ADDR);
    uint64_t *pml4 = (uint64_t *)(ram + GODWIT_PT_ADDR);
    uint64_t *pdpt = pml4 + 512;
    uint64_t *pd = pdpt + 512;
    uint8_t *tss = ram + GODWIT_TSS_ADDR;

    gdt[0] = 0;
    gdt[1] = gdt_entry(0, 0xfffff, 0xb, 1, 0, 1, 0, 1);
    gdt[2] = gdt_entry(0, 0xfffff, 0x3, 1, 0, 0, 1, 1);
    gdt[3] = gdt_entry(0, 0xfffff, 0xb, 1, 3, 1, 0, 1);
    gdt[4] = gdt_entry(0, 0xfffff, 0x3, 1, 3, 0, 1, 1);
    gdt[5] = gdt_entry(GODWIT_TSS_ADDR, TSS_LIMIT, 0xb, 0, 0, 0, 0, 0);
    gdt[6] = 0;                                   /* TSS base bits 63:32 */

    memset(pml4, 0, 6 * 4096);
    pml4[0] = (GODWIT_PT_ADDR + 0x1000) | PTE_P | PTE_RW | PTE_US;
    for (uint64_t i = 0; i < 4; i++) {
        pdpt[i] = (GODWIT_PT_ADDR + 0x2000 + i * 0x1000) | PTE_P | PTE_RW | PTE_US;
    }
    for (uint64_t i = 0; i < 4 * 512; i++) {
        pd[i] = (i * 2 * MiB) | PTE_P | PTE_RW | PTE_US | PTE_PS;
    }

    memset(tss, 0, TSS_LIMIT + 1);
    uint16_t iomap_base = TSS_SIZE;
    memcpy(tss + 102, &iomap_base, 2);
    tss[TSS_LIMIT] = 0xff;

    memcpy(ram + GODWIT_APPEND_ADDR, m->append, strlen(m->append) + 1);
}

static struct kvm_segment seg_user(uint16_t sel, bool code)
{
    return (struct kvm_segment) {
        .base = 0, .limit = 0xffffffff, .selector = sel, .type = code ? 0xb : 0x3,
        .present = 1, .dpl = 3, .db = !code, .s = 1, .l = code, .g = 1,
    };
}

bool machine_boot_setup(Machine *m, uint64_t entry, Error **errp)
{
    KvmVcpu *cpu = kvm_vm_get_vcpu(m->vm, 0);
    int fd = kvm_vcpu_fd(cpu);
    struct kvm_sregs sregs;
    int ret;

    machine_write_tables(m);
    if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0) {
        error_setg_errno(errp, errno, "KVM_GET_SREGS failed on vCPU 0");
        return false;
    }
    sregs.cs = seg_user(SEL_USER_CODE, true);
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg_user(SEL_USER_DATA, false);
    sregs.tr = (struct kvm_segment) {
        .base = GODWIT_TSS_ADDR, .limit = TSS_LIMIT, .selector = SEL_TSS, .type = 0xb,
        .present = 1,
    };
    sregs.gdt.base = GODWIT_GDT_ADDR;
    sregs.gdt.limit = GDT_ENTRIES * 8 - 1;
    sregs.idt.base = 0;                  /* no handlers: an exception ends in a triple fault */
    sregs.idt.limit = 0;
    sregs.cr0 = CR0_PG | CR0_AM | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE;
    sregs.cr3 = GODWIT_PT_ADDR;
    sregs.cr4 = CR4_PAE;
    sregs.efer = EFER_LME | EFER_LMA;
    if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0) {
        error_setg_errno(errp, errno, "KVM_SET_SREGS failed on vCPU 0");
        return false;
    }
    struct kvm_regs regs = {
        .rip = entry,
        .rsp = GODWIT_STACK_TOP,
        .rflags = RFLAGS_FIXED | RFLAGS_IOPL3,
        .rdi = GODWIT_APPEND_ADDR,
        .rsi = m->ram_size,
        .rdx = kvm_vcpu_tsc_khz(cpu),
    };
    ret = ioctl(fd, KVM_SET_REGS, &regs);
    if (ret < 0) {
        error_setg_errno(errp, errno, "KVM_SET_REGS failed on vCPU 0");
        return false;
    }
    return true;
}

/* Room a program may occupy: from 1 MiB up to the initial stack top, minus 64 KiB of stack. */
static bool machine_range_ok(uint64_t addr, uint64_t size)
{
    const uint64_t lo = GODWIT_LOAD_ADDR, hi = GODWIT_STACK_TOP - 64 * KiB;
    return addr >= lo && addr <= hi && size <= hi - addr;
}

static bool machine_load_elf(Machine *m, const uint8_t *buf, size_t len, uint64_t *entry,
                             Error **errp)
{
    Elf64_Ehdr eh;

    if (len < sizeof(eh)) {
        error_setg(errp, "ELF file is truncated (%zu bytes)", len);
        return false;
    }
    memcpy(&eh, buf, sizeof(eh));
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_machine != EM_X86_64 || eh.e_type != ET_EXEC) {
        error_setg(errp, "Not an x86-64 little-endian ELF64 executable");
        return false;
    }
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phoff > len ||
        (len - eh.e_phoff) / sizeof(Elf64_Phdr) < eh.e_phnum) {
        error_setg(errp, "ELF program headers are missing or out of the file");
        return false;
    }
    bool entry_ok = false;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0) {
            continue;
        }
        if (ph.p_filesz > ph.p_memsz || ph.p_offset > len || ph.p_filesz > len - ph.p_offset) {
            error_setg(errp, "ELF segment %u lies outside the file", i);
            return false;
        }
        if (!machine_range_ok(ph.p_paddr, ph.p_memsz)) {
            error_setg(errp, "ELF segment %u at 0x%" PRIx64 " (0x%" PRIx64 " bytes) is outside "
                       "the program area 0x%x-0x%x", i, (uint64_t)ph.p_paddr,
                       (uint64_t)ph.p_memsz, GODWIT_LOAD_ADDR, GODWIT_STACK_TOP);
            return false;
        }
        uint8_t *dst = (uint8_t *)m->ram + ph.p_paddr;
        memcpy(dst, buf + ph.p_offset, ph.p_filesz);
        memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
        entry_ok |= eh.e_entry >= ph.p_paddr && eh.e_entry - ph.p_paddr < ph.p_memsz;
    }
    if (!entry_ok) {
        error_setg(errp, "ELF entry point 0x%" PRIx64 " is not in a loaded segment",
                   (uint64_t)eh.e_entry);
        return false;
    }
    *entry = eh.e_entry;
    return true;
}

bool machine_load_program_data(Machine *m, const void *buf, size_t len, Error **errp)
{
    uint64_t entry = GODWIT_LOAD_ADDR;

    if (len >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG)) {
        if (!machine_load_elf(m, buf, len, &entry, errp)) {
            return false;
        }
    } else {
        if (len == 0 || !machine_range_ok(GODWIT_LOAD_ADDR, len)) {
            error_setg(errp, "Flat program of %zu bytes does not fit at 0x%x", len,
                       GODWIT_LOAD_ADDR);
            return false;
        }
        memcpy((uint8_t *)m->ram + GODWIT_LOAD_ADDR, buf, len);
    }
    return machine_boot_setup(m, entry, errp);
}

bool machine_load_program(Machine *m, const char *path, Error **errp)
{
    g_autofree char *buf = NULL;
    g_autoptr(GError) gerr = NULL;
    gsize len;

    if (!g_file_get_contents(path, &buf, &len, &gerr)) {
        error_setg(errp, "Could not read guest program '%s': %s", path, gerr->message);
        return false;
    }
    if (!machine_load_program_data(m, buf, len, errp)) {
        error_prepend(errp, "'%s': ", path);
        return false;
    }
    return true;
}
