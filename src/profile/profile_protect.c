/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "profile/profile_protect.h"

bool profile_exec_program(const char *item, char *path, size_t pathlen, char *name, size_t namelen)
{
	const char *arrow = strstr(item, " <- ");
	size_t plen = arrow ? (size_t)(arrow - item) : strlen(item);
	const char *as = memmem(item, plen, " as ", 4);
	size_t exe = as ? (size_t)(as - item) : plen;
	size_t nl = as ? plen - exe - 4 : 0;
	if (!exe || item[0] != '/' || exe >= pathlen || nl >= namelen)
		return false;
	memcpy(path, item, exe);
	path[exe] = 0;
	if (as)
		memcpy(name, as + 4, nl);
	name[nl] = 0;
	return true;
}

bool profile_dest_split(const char *item, char *host, size_t hostlen, uint16_t *port)
{
	const char *s = item;
	if (!strncmp(s, "tcp/", 4) || !strncmp(s, "udp/", 4))
		s += 4;
	const char *colon = strrchr(s, ':');
	if (!colon || colon[1] < '0' || colon[1] > '9')
		return false;
	char *end;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (*end || p == 0 || p > 65535)
		return false;
	size_t hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (!hl || hl >= hostlen)
		return false;
	memcpy(host, s, hl);
	host[hl] = 0;
	*port = (uint16_t)p;
	return true;
}

size_t profile_nameservers(const char *text, size_t len, char out[][PROFILE_NS_LEN], size_t max)
{
	size_t n = 0;
	for (size_t at = 0; at < len && n < max;) {
		const char *line = text + at;
		const char *nl = memchr(line, '\n', len - at);
		size_t ll = nl ? (size_t)(nl - line) : len - at;
		at += ll + 1;
		size_t i = 0;
		while (i < ll && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (ll - i < 11 || memcmp(line + i, "nameserver", 10) || (line[i + 10] != ' ' && line[i + 10] != '\t'))
			continue;
		i += 10;
		while (i < ll && (line[i] == ' ' || line[i] == '\t'))
			i++;
		size_t j = i;
		while (j < ll && line[j] != ' ' && line[j] != '\t' && line[j] != '\r' && line[j] != '%' && line[j] != '#' &&
		       line[j] != ';')
			j++;
		char a[PROFILE_NS_LEN];
		uint8_t bin[16];
		if (j == i || j - i >= sizeof(a))
			continue;
		memcpy(a, line + i, j - i);
		a[j - i] = 0;
		if (inet_pton(AF_INET, a, bin) != 1 && inet_pton(AF_INET6, a, bin) != 1)
			continue;
		memcpy(out[n++], a, j - i + 1);
	}
	return n;
}
