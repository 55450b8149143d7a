/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 */
#include "util/osdep.h"
#include "img.h"

int img_check(int argc, char **argv) { error_report("'check' is not implemented yet"); return 1; }
