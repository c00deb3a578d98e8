/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The web console's static files (web/console/), compiled into the binary by
 * scripts/embed-assets (the Makefile's rule for $(BUILD)/console_assets.c).
 */
#ifndef VIGIL_HUB_CONSOLE_ASSETS_H
#define VIGIL_HUB_CONSOLE_ASSETS_H

#include <stddef.h>

struct console_asset {
	const char *name; /* path under /console/, e.g. "app.js" */
	const unsigned char *data;
	size_t size;
};

/* Ended by an entry whose name is NULL. */
extern const struct console_asset console_assets[];

/* The file of that name (path under /console/), or NULL (hub_api_console.c). */
const struct console_asset *console_asset_find(const char *name);

#endif
