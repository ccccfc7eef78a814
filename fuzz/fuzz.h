/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Every fuzz target defines this; fuzz-main.c replays a corpus through it
 * when libFuzzer is not used, so corpora run as ordinary tests. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
