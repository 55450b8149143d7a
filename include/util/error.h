/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * error.h: how errors travel on the control path.
 *
 * A function that can fail takes `Error **errp` as its last argument and, on failure,
 * stores one Error there with error_setg() and returns false / NULL / -errno. The
 * caller either handles it (error_report_err, error_free), passes it up with
 * error_propagate(), or adds context with error_prepend().
 *
 * errp may be:
 *   NULL          the caller does not care; the error is dropped
 *   &error_abort  a failure is our bug: print it and abort()
 *   &error_fatal  a failure ends the program: print it and exit(1)
 *   &local_err    with local_err == NULL beforehand: the error is stored there
 * Setting an error into an errp that already holds one is a bug (asserts).
 *
 * Messages say what failed, on what and why, with no trailing period or newline,
 * and use QEMU's wording where we mirror a QEMU interface.
 *
 * The error class only matters for QMP replies; almost everything is GenericError.
 *
 * Threads: any thread may create and free its own Errors; error_report() is
 * thread-safe (one fprintf per message).
 */
#ifndef GODWIT_ERROR_H
#define GODWIT_ERROR_H

#include "util/osdep.h"

typedef enum ErrorClass {
    ERROR_CLASS_GENERIC_ERROR,
    ERROR_CLASS_COMMAND_NOT_FOUND,
    ERROR_CLASS_DEVICE_NOT_ACTIVE,
    ERROR_CLASS_DEVICE_NOT_FOUND,
    ERROR_CLASS_KVM_MISSING_CAP,
    ERROR_CLASS__MAX,
} ErrorClass;

typedef struct Error Error;

extern Error *error_abort;
extern Error *error_fatal;

/* QMP name of an error class ("GenericError", "DeviceNotFound", ...). */
const char *error_class_name(ErrorClass cls);

/* Store a new GenericError with a printf-style message into *errp. */
#define error_setg(errp, ...) \
    error_setg_internal((errp), __FILE__, __LINE__, __func__, __VA_ARGS__)
/* As error_setg, with ": <strerror(os_errno)>" appended (os_errno > 0). */
#define error_setg_errno(errp, os_errno, ...) \
    error_setg_errno_internal((errp), __FILE__, __LINE__, __func__, (os_errno), __VA_ARGS__)
/* As error_setg, with an explicit class. */
#define error_set(errp, cls, ...) \
    error_set_internal((errp), __FILE__, __LINE__, __func__, (cls), __VA_ARGS__)

void error_setg_internal(Error **errp, const char *src, int line, const char *func,
                         const char *fmt, ...) GODWIT_PRINTF(5, 6);
void error_setg_errno_internal(Error **errp, const char *src, int line, const char *func,
                               int os_errno, const char *fmt, ...) GODWIT_PRINTF(6, 7);
void error_set_internal(Error **errp, const char *src, int line, const char *func,
                        ErrorClass cls, const char *fmt, ...) GODWIT_PRINTF(6, 7);

/*
 * Move local_err into *dst_errp (consuming it). If dst_errp is NULL the error is
 * freed; &error_abort/&error_fatal act on it; if *dst_errp is already set,
 * local_err is dropped (the first error wins). local_err may be NULL.
 */
void error_propagate(Error **dst_errp, Error *local_err);

/* Put "<fmt>" in front of the message of *errp, if any. errp may be NULL. */
void error_prepend(Error **errp, const char *fmt, ...) GODWIT_PRINTF(2, 3);

/* Add a hint printed on its own line after the message by error_report_err(). */
void error_append_hint(Error **errp, const char *fmt, ...) GODWIT_PRINTF(2, 3);

const char *error_get_pretty(const Error *err);
const char *error_get_hint(const Error *err);     /* "" when there is none */
ErrorClass error_get_class(const Error *err);
Error *error_copy(const Error *err);
void error_free(Error *err);
void error_free_or_abort(Error **errp);  /* tests: assert *errp is set, free it */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Error, error_free)

/* "progname: <message>\n" on stderr, then the hint; frees err. */
void error_report_err(Error *err);
/* As error_report_err, with "<fmt>" prepended. */
void error_reportf_err(Error *err, const char *fmt, ...) GODWIT_PRINTF(2, 3);

/*
 * Print "progname: <message>\n" to stderr, QEMU tools' style (the iotests filters
 * rely on the "<basename>: " prefix). error_vreport is the va_list form.
 */
void error_report(const char *fmt, ...) GODWIT_PRINTF(1, 2);
void error_vreport(const char *fmt, va_list ap) GODWIT_PRINTF(1, 0);
void warn_report(const char *fmt, ...) GODWIT_PRINTF(1, 2);   /* "progname: warning: ..." */
void info_report(const char *fmt, ...) GODWIT_PRINTF(1, 2);   /* "progname: ..." */

/*
 * ERRP_GUARD(): lets a function dereference errp safely (to test *errp after a
 * call) even when the caller passed NULL or &error_fatal. Use at the top.
 */
typedef struct ErrorPropagator {
    Error *local_err;
    Error **errp;
} ErrorPropagator;
void error_propagator_cleanup(ErrorPropagator *prop);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ErrorPropagator, error_propagator_cleanup)
#define ERRP_GUARD()                                                   \
    g_auto(ErrorPropagator) _auto_errp_prop = { .errp = errp };        \
    do {                                                               \
        if (!errp || errp == &error_fatal) {                           \
            errp = &_auto_errp_prop.local_err;                         \
        }                                                              \
    } while (0)

#endif /* GODWIT_ERROR_H */
