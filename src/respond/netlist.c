/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "respond/netlist.h"

int netlist_parse_cidr(const char *s, struct netlist_net *net)
{
	char buf[64];
	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	char *slash = strchr(buf, '/');
	long len = -1;
	if (slash) {
		char *end;
		*slash = 0;
		len = strtol(slash + 1, &end, 10);
		if (*end || slash[1] == 0)
			return -1;
	}
	memset(net->addr, 0, sizeof(net->addr));
	if (inet_pton(AF_INET, buf, net->addr) == 1)
		net->family = 4;
	else if (inet_pton(AF_INET6, buf, net->addr) == 1)
		net->family = 6;
	else
		return -1;
	unsigned int max = net->family == 4 ? 32 : 128;
	if (len < 0)
		len = max;
	if ((unsigned long)len > max)
		return -1;
	net->len = (unsigned int)len;
	return 0;
}

int netlist_parse(const char *path, const struct yaml_node *list, uint8_t verdict, struct netlist_net **v,
		  size_t *n, size_t max, char *err, size_t errlen)
{
	if (!list)
		return 0;
	if (list->kind != YAML_SEQ)
		return yaml_errorf(err, errlen, path, list, "a list of networks is expected");
	for (size_t i = 0; i < list->n; i++) {
		const struct yaml_node *it = list->items[i], *cidr = it, *ports = NULL;
		struct netlist_net net = { .verdict = verdict };
		if (it->kind == YAML_MAP) {
			cidr = yaml_get(it, "cidr");
			ports = yaml_get(it, "ports");
		}
		if (!cidr || cidr->kind != YAML_SCALAR || netlist_parse_cidr(cidr->str, &net))
			return yaml_errorf(err, errlen, path, cidr ? cidr : it, "not a network: expected 10.0.0.0/8 or fd00::/8");
		if (ports) {
			if (ports->kind != YAML_SEQ || ports->n == 0 || ports->n > NETLIST_MAX_PORTS)
				return yaml_errorf(err, errlen, path, ports, "ports: a list of 1 to %d port numbers",
						   NETLIST_MAX_PORTS);
			for (size_t k = 0; k < ports->n; k++) {
				char *end = NULL;
				long p = ports->items[k]->kind == YAML_SCALAR ? strtol(ports->items[k]->str, &end, 10) : -1;
				if (p < 1 || p > 65535 || *end)
					return yaml_errorf(err, errlen, path, ports->items[k], "not a port number");
				net.ports[net.nports++] = (uint16_t)p;
			}
		}
		if (*n == max)
			return yaml_errorf(err, errlen, path, it, "more than %zu networks", max);
		*v = xrealloc(*v, (*n + 1) * sizeof(**v));
		(*v)[(*n)++] = net;
	}
	return 0;
}
