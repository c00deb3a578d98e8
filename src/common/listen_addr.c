/* SPDX-License-Identifier: Apache-2.0 */
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include "common/listen_addr.h"

int listen_addr_parse(const char *spec, struct sockaddr_storage *ss, int *v6)
{
	char host[256];
	const char *port;
	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');
		if (!end || end[1] != ':' || (size_t)(end - spec - 1) >= sizeof(host))
			return -1;
		memcpy(host, spec + 1, (size_t)(end - spec - 1));
		host[end - spec - 1] = 0;
		port = end + 2;
	} else {
		const char *colon = strrchr(spec, ':');
		if (!colon || (size_t)(colon - spec) >= sizeof(host))
			return -1;
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = 0;
		port = colon + 1;
	}
	/* getaddrinfo takes "" and wraps 99999: the port is checked here */
	char *end;
	long p = strtol(port, &end, 10);
	if (port[0] < '0' || port[0] > '9' || *end || p > 65535)
		return -1;
	struct addrinfo hints = { 0 }, *ai;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host[0] ? host : NULL, port, &hints, &ai))
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*v6 = ai->ai_family == AF_INET6;
	freeaddrinfo(ai);
	return 0;
}
