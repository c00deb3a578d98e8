/* SPDX-License-Identifier: Apache-2.0 */
/* vigil run --console: the hub's API and console in the agent (run_console.h). */
#include "cli/run_console.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/log.h"
#include "fleet/command.h"
#include "fleet/nats_conn.h"
#include "hub/hub_api.h"
#include "hub/hub_local.h"
#include "output/forwarders.h"
#include "respond/bundle.h"

static struct {
	char *spec;          /* the console output's "console:..." (borrowed by the agent's config) */
	char *hub_path;
	char *cert, *key;
	size_t key_len;
	struct hub_tokens *tokens;
	struct hub_stats stats;
	struct hub_api_opts ao;
	struct hub_api *api;
	struct agent *agent;
	const char *evidence_dir; /* the agent's, for the console's evidence downloads */
} rc;

static char *read_small(const char *what, const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || st.st_size <= 0 || st.st_size > (1 << 20)) {
		fprintf(stderr, "vigil: %s %s: %s\n", what, path, fd < 0 ? strerror(errno) : "empty or over 1 MiB");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	char *b = xmalloc((size_t)st.st_size + 1);
	ssize_t n = read(fd, b, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		fprintf(stderr, "vigil: %s %s: cannot read it\n", what, path);
		free(b);
		return NULL;
	}
	b[n] = 0;
	if (len)
		*len = (size_t)n;
	return b;
}

/* path made absolute against the working directory (malloc'd). */
static char *absolute(const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	struct vg_buf b = { 0 };
	buf_printf(&b, "%s/%s", cwd, path);
	return b.data;
}

/* everything but the output's spec, which the agent's config borrows for the agent's life
 * (kept, reachable, until the process ends) */
static void cleanup(void)
{
	char *spec = rc.spec;
	free(rc.hub_path);
	free(rc.cert);
	if (rc.key) {
		OPENSSL_cleanse(rc.key, rc.key_len);
		free(rc.key);
	}
	hub_tokens_free(rc.tokens);
	memset(&rc, 0, sizeof(rc));
	rc.spec = spec;
}

int run_console_prepare(const struct run_console_opts *o, struct agent_config *c)
{
	char err[1024];
	rc.evidence_dir = c->evidence_dir;
	if (!o->listen) {
		if (o->tls_cert || o->tls_key || o->token_file || o->store) {
			fprintf(stderr, "vigil: --console-* options need --console ADDR:PORT\n");
			return -1;
		}
		return 0;
	}
	if (c->mode != AGENT_RUN) {
		fprintf(stderr, "vigil: --console is for run\n");
		return -1;
	}
	if (!o->tls_cert || !o->tls_key || !o->token_file) {
		fprintf(stderr, "vigil: --console needs --console-tls-cert, --console-tls-key and --console-token-file "
				"(the console is HTTPS only, every API route behind a token)\n");
		return -1;
	}
	if (c->fleet.servers) {
		fprintf(stderr, "vigil: --console is for a single agent without --nats: a node of a fleet is seen "
				"in its hub's console (vigil hub)\n");
		return -1;
	}
	if (!c->store_path || !c->detect) {
		fprintf(stderr, "vigil: --console shows the alert store: it cannot go with --no-store\n");
		return -1;
	}
	if (!(rc.tokens = hub_tokens_load(o->token_file, err, sizeof(err)))) {
		fprintf(stderr, "vigil: --console-token-file: %s\n", err);
		goto fail;
	}
	if (!(rc.cert = read_small("--console-tls-cert", o->tls_cert, NULL)) ||
	    !(rc.key = read_small("--console-tls-key", o->tls_key, &rc.key_len)))
		goto fail;
	char *agent_store = absolute(c->store_path);
	if (!agent_store) {
		fprintf(stderr, "vigil: cannot tell the working directory: %s\n", strerror(errno));
		goto fail;
	}
	if (o->store) {
		rc.hub_path = absolute(o->store);
	} else {
		/* console.db beside the agent's store */
		struct vg_buf b = { 0 };
		const char *slash = strrchr(agent_store, '/');
		buf_printf(&b, "%.*s/console.db", (int)(slash - agent_store), agent_store);
		rc.hub_path = b.data;
	}
	if (!rc.hub_path || !strcmp(rc.hub_path, agent_store) || strchr(rc.hub_path, ';') || strchr(agent_store, ';')) {
		fprintf(stderr, "vigil: --console-store must be a file of its own, not the agent's store (and no ';')\n");
		free(agent_store);
		goto fail;
	}
	char node[FLEET_NAME_MAX + 1];
	fleet_default_node(node, sizeof(node));
	struct vg_buf spec = { 0 };
	buf_printf(&spec, "%s:%s;store=%s;node=%s;cluster=default", HUB_LOCAL_NAME, rc.hub_path, agent_store, node);
	free(agent_store);
	rc.spec = spec.data;
	if (!forwarder_find(HUB_LOCAL_NAME) && forwarder_register(&hub_local_ops)) {
		fprintf(stderr, "vigil: cannot add the console's output\n");
		goto fail;
	}
	c->outputs = xrealloc(c->outputs, (c->noutputs + 1) * sizeof(*c->outputs));
	c->outputs[c->noutputs++] = rc.spec;
	c->console = true;
	rc.stats.started_ns = (int64_t)time(NULL) * 1000000000LL;
	rc.ao = (struct hub_api_opts){
		.listen = o->listen, .cert_pem = rc.cert, .key_pem = rc.key, .tokens = rc.tokens,
		.store_path = rc.hub_path, .silent_after_ns = 30LL * 1000000000LL, .stats = &rc.stats, .threads = 4,
	};
	return 0;
fail:
	cleanup();
	return -2;
}

/* The console's commands (release, thaw) act on this agent. */
static int local_command(void *ctx, const struct fleet_cmd *c, char *detail, size_t dlen)
{
	return agent_command(ctx, c, "the console", detail, dlen);
}

/* The console's evidence downloads: this agent's bundles, packed here. */
static int local_evidence(void *ctx, const char *bundle, struct vg_buf *out, char *err, size_t errlen)
{
	(void)ctx;
	return bundle_pack(rc.evidence_dir, bundle, FLEET_EVIDENCE_MAX, out, err, errlen);
}

int run_console_start(struct agent *a)
{
	if (!rc.ao.listen)
		return 0;
	rc.agent = a;
	rc.ao.local_command = local_command;
	rc.ao.local_evidence = local_evidence;
	rc.ao.local_ctx = a;
	if (!(rc.api = hub_api_start(&rc.ao))) {
		cleanup();
		return -1;
	}
	/* as vigil hub says it: with port 0, which port was picked */
	fprintf(stderr, "vigil: console listening on port %u (https://%s, store %s)\n", hub_api_port(rc.api),
		rc.ao.listen, rc.hub_path);
	return 0;
}

void run_console_stop(void)
{
	if (!rc.ao.listen)
		return;
	hub_api_stop(rc.api);
	rc.api = NULL;
	cleanup();
}
