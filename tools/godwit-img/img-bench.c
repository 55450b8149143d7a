/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 */
#include "util/osdep.h"
#include "img.h"

int img_bench(int argc, char **argv) { error_report("'bench' is not implemented yet"); return 1; }
