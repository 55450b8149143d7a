/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 * Copyright (c) 2026 The Godwit authors
 *
 * Placeholder: being written (see the block layer issue).
 */
#include "util/osdep.h"
