/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * file-posix-lock.c: image locking for the file driver. QEMU's byte-range scheme
 * (see file-posix.h): an OFD read lock on byte 100+bit says "I use permission
 * bit", one on byte 200+bit says "I do not share bit". Godwit and QEMU processes
 * therefore exclude each other on the same image.
 */
#include "util/osdep.h"
#include "block/drivers/file-posix.h"

#include <fcntl.h>

static const char *file_perm_name(int bit)
{
    static const char *const names[] = {
        "consistent read", "write", "write unchanged", "resize",
    };
    return names[bit];
}

/* Set (F_RDLCK) or clear (F_UNLCK) the OFD lock on one byte. */
static int file_lock_byte(int fd, int byte, short type)
{
    struct flock fl = {
        .l_whence = SEEK_SET, .l_start = byte, .l_len = 1, .l_type = type,
    };
    return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

/* Does an open file description other than fd's hold a lock on byte? */
static int file_lock_byte_taken(int fd, int byte)
{
    struct flock fl = {
        .l_whence = SEEK_SET, .l_start = byte, .l_len = 1, .l_type = F_WRLCK,
    };
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
        return -errno;
    }
    return fl.l_type != F_UNLCK;
}

/* Hold exactly the bytes for (perm, shared), changing only what differs from old. */
int file_lock_apply(int fd, uint64_t old_perm, uint64_t old_shared,
                    uint64_t perm, uint64_t shared, Error **errp)
{
    for (int i = 0; i < 4; i++) {
        uint64_t bit = 1ULL << i;
        struct { int byte; bool had, want; } b[2] = {
            { FILE_LOCK_PERM_BASE + i, old_perm & bit, perm & bit },
            { FILE_LOCK_SHARED_BASE + i, !(old_shared & bit), !(shared & bit) },
        };
        for (int j = 0; j < 2; j++) {
            if (b[j].had == b[j].want) {
                continue;
            }
            int ret = file_lock_byte(fd, b[j].byte, b[j].want ? F_RDLCK : F_UNLCK);
            if (ret < 0) {
                error_setg_errno(errp, -ret, b[j].want ? "Failed to lock byte %d"
                                                       : "Failed to unlock byte %d", b[j].byte);
                return ret;
            }
        }
    }
    return 0;
}

/* Set every lock byte to exactly what (perm, shared) needs; best effort (rollback). */
void file_lock_set_all(int fd, uint64_t perm, uint64_t shared)
{
    for (int i = 0; i < 4; i++) {
        uint64_t bit = 1ULL << i;
        file_lock_byte(fd, FILE_LOCK_PERM_BASE + i, (perm & bit) ? F_RDLCK : F_UNLCK);
        file_lock_byte(fd, FILE_LOCK_SHARED_BASE + i, (shared & bit) ? F_UNLCK : F_RDLCK);
    }
}

static int file_lock_conflict(const char *filename, bool shared_lock, int bit, Error **errp)
{
    error_setg(errp, shared_lock ? "Failed to get shared \"%s\" lock"
                                 : "Failed to get \"%s\" lock", file_perm_name(bit));
    if (filename) {
        error_append_hint(errp, "Is another process using the image [%s]?\n", filename);
    }
    return -EAGAIN;
}

/*
 * Check that no other holder conflicts with (perm, shared): first every
 * permission we take against others' "not shared" bytes, then every permission
 * we do not share against others' "held" bytes.
 */
int file_lock_check(int fd, const char *filename, uint64_t perm, uint64_t shared,
                    Error **errp)
{
    for (int pass = 0; pass < 2; pass++) {
        bool shared_lock = pass == 1;
        for (int i = 0; i < 4; i++) {
            uint64_t bit = 1ULL << i;
            if (shared_lock ? (shared & bit) != 0 : (perm & bit) == 0) {
                continue;
            }
            int byte = (shared_lock ? FILE_LOCK_PERM_BASE : FILE_LOCK_SHARED_BASE) + i;
            int taken = file_lock_byte_taken(fd, byte);
            if (taken < 0) {
                error_setg_errno(errp, -taken, "Failed to check byte %d", byte);
                return taken;
            }
            if (taken) {
                return file_lock_conflict(filename, shared_lock, i, errp);
            }
        }
    }
    return 0;
}

int file_lock_update(int fd, const char *filename, uint64_t old_perm, uint64_t old_shared,
                     uint64_t perm, uint64_t shared, Error **errp)
{
    int ret = file_lock_apply(fd, old_perm, old_shared, perm, shared, errp);

    if (ret == 0) {
        ret = file_lock_check(fd, filename, perm, shared, errp);
    }
    if (ret < 0) {
        file_lock_set_all(fd, old_perm, old_shared);
    }
    return ret;
}

void file_lock_release(int fd)
{
    struct flock fl = {
        .l_whence = SEEK_SET, .l_start = FILE_LOCK_PERM_BASE,
        .l_len = FILE_LOCK_SHARED_BASE + 4 - FILE_LOCK_PERM_BASE, .l_type = F_UNLCK,
    };
    fcntl(fd, F_OFD_SETLK, &fl);
}
