/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_LISTEN_ADDR_H
#define VIGIL_LISTEN_ADDR_H

#include <sys/socket.h>

/*
 * A server's --listen: "ADDR:PORT", "[ADDR6]:PORT" or ":PORT" (every address),
 * with a numeric address and a port from 0 (the kernel picks one) to 65535 (nothing is looked up) -> *ss, and *v6 set
 * for an IPv6 one. 0, or -1 for anything else.
 */
int listen_addr_parse(const char *spec, struct sockaddr_storage *ss, int *v6);

#endif
