/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The service manager's notification protocol (sd_notify(3)), without
 * libsystemd: one datagram per message to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). "READY=1"
 * once the agent is watching, "WATCHDOG=1" from the main loop every half
 * $WATCHDOG_USEC (so that a loop that hangs stops the pings and systemd's
 * WatchdogSec= restarts the agent), "STOPPING=1" at the end. Nothing is sent
 * when $NOTIFY_SOCKET is unset; $WATCHDOG_PID, when set, must be ours.
 * A failed send is logged once and otherwise ignored: the manager's absence
 * must not stop the agent.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "agent/agent_int.h"
#include "common/log.h"

void agent_notify_init(struct agent_notify *n)
{
	const char *sock = getenv("NOTIFY_SOCKET"), *usec = getenv("WATCHDOG_USEC"), *wpid = getenv("WATCHDOG_PID");

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (!sock || (sock[0] != '/' && sock[0] != '@') || strlen(sock) >= sizeof(n->addr.sun_path)) {
		if (sock && *sock)
			vg_warn("ignoring NOTIFY_SOCKET=%s: not an absolute path or @abstract name that fits", sock);
		return;
	}
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, sock, strlen(sock));
	n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sock));
	if (sock[0] == '@')
		n->addr.sun_path[0] = 0; /* abstract: the name is not NUL-terminated */
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		vg_warn("cannot notify the service manager: socket: %s", strerror(errno));
		return;
	}
	char *end = NULL;
	unsigned long long us = usec ? strtoull(usec, &end, 10) : 0;
	bool ours = !wpid || strtoul(wpid, NULL, 10) == (unsigned long)getpid();
	if (us > 0 && end && !*end && ours)
		n->watchdog_ns = us * 1000ull / 2; /* ping twice per period, as sd_watchdog_enabled(3) advises */
}

void agent_notify(struct agent_notify *n, const char *msg)
{
	if (n->fd < 0)
		return;
	if (sendto(n->fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&n->addr, n->addrlen) < 0 &&
	    !n->warned) {
		n->warned = true;
		vg_warn("cannot notify the service manager on %s: %s", getenv("NOTIFY_SOCKET"), strerror(errno));
	}
}

void agent_notify_tick(struct agent_notify *n, uint64_t now_ns)
{
	if (n->fd < 0 || !n->watchdog_ns || now_ns - n->last_ping_ns < n->watchdog_ns)
		return;
	n->last_ping_ns = now_ns;
	agent_notify(n, "WATCHDOG=1");
}

void agent_notify_close(struct agent_notify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}
