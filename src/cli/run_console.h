/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil run --console (docs/console.md, "A single agent"): the hub's API and
 * web console served by the agent itself, over a hub store of its own that
 * the agent's outbox feeds (hub/hub_local.h). This file wires the two
 * modules, which cannot include each other (scripts/check-layers).
 */
#ifndef VIGIL_CLI_RUN_CONSOLE_H
#define VIGIL_CLI_RUN_CONSOLE_H

#include "agent/agent.h"

struct run_console_opts {
	const char *listen;      /* --console ADDR:PORT, NULL: no console */
	const char *tls_cert, *tls_key, *token_file;
	const char *store;       /* --console-store PATH; NULL: console.db beside the agent's store */
};

/*
 * Before agent_create: check the options and files (tokens, certificate and key
 * read now: a mistake is a start-up error, not a console that never comes), and
 * add the console's output to c (c->outputs may be reallocated; c->console set).
 * 0, or after saying why -1 (a usage error) or -2 (a file cannot be read or used).
 */
int run_console_prepare(const struct run_console_opts *o, struct agent_config *c);
/* After agent_create: serve. 0, or -1 logged (the agent is not run then). */
int run_console_start(struct agent *a);
/* Before agent_destroy: stop serving (no command reaches the agent after). */
void run_console_stop(void);

#endif
