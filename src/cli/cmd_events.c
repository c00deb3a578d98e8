/* SPDX-License-Identifier: Apache-2.0 */
/* vigil events: the event types the sensor can capture. */
#include <stdio.h>
#include "cli/cli.h"
#include "sensor/event_table.h"

int cmd_events(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fputs("usage: vigil events\n", stderr);
		return VG_EXIT_USAGE;
	}
	for (int t = 1; t < VG_EVT_MAX; t++) {
		const struct vg_event_info *e = event_table_get(t);
		if (e->category == VG_CAT_INTERNAL)
			continue;
		printf("%-14s %-10s %s", e->name, event_table_category_name(e->category),
		       e->flags & VG_EF_DEFAULT ? "default" : "opt-in ");
		for (int i = 0; i < e->nparams; i++)
			printf("%s%s", i ? "," : " ", e->params[i].name);
		putchar('\n');
	}
	return VG_EXIT_OK;
}
