/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The validating admission webhook server (libmicrohttpd, TLS by GnuTLS).
 *
 *   POST /validate   AdmissionReview in, AdmissionReview out (admission_review.h)
 *   GET  /healthz    200 "ok" while the process serves
 *   GET  /readyz     200 "ready" once a policy is loaded
 *   GET  /metrics    Prometheus text: requests, decisions, latency histogram, reloads
 *
 * Bodies larger than max_body are refused with 413 (and never buffered past
 * the limit); an idle connection is closed after timeout_s. The policy can be
 * reloaded while serving: requests in flight finish with the policy they
 * started with (a read-write lock), new ones get the new policy; a policy
 * that does not load leaves the old one in place.
 */
#ifndef VIGIL_ADMISSION_SERVER_H
#define VIGIL_ADMISSION_SERVER_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

struct admission_decision;

#define ADMISSION_DEFAULT_MAX_BODY (3u << 20) /* the API server's own request limit is 3 MiB */
#define ADMISSION_DEFAULT_TIMEOUT 10          /* seconds */

struct admission_server_opts {
	const char *listen;      /* "ADDR:PORT", "[ADDR6]:PORT" or ":PORT"; port 0 picks one */
	const char *cert_pem;    /* PEM contents; both NULL only with insecure_http */
	const char *key_pem;
	int insecure_http;       /* plain HTTP, for tests only */
	const char *policy_path; /* NULL: the built-in default policy */
	size_t max_body;
	unsigned timeout_s;
	unsigned threads;
	FILE *decision_log;      /* one JSON line per decision, or NULL */
	/*
	 * Told of each decision once judged, with the policy's version ("sha256:..."
	 * of the policy file's bytes, "builtin" for the default policy), or NULL.
	 * Called on the request's thread before the answer goes: it must only queue
	 * (never block; `admission serve --nats` queues for NATS, docs/admission.md).
	 */
	void (*on_decision)(void *ctx, const struct admission_decision *d, const char *policy_version);
	void *on_decision_ctx;
};

/*
 * Loads the policy, starts serving and runs until *stop is set; reloads the
 * policy whenever *reload is set (and clears it). Prints the bound address
 * on stderr ("vigil: admission webhook listening on https://127.0.0.1:8443").
 * Returns 0 after a clean stop, -1 with a message on stderr when it cannot
 * start.
 */
int admission_server_run(const struct admission_server_opts *o, volatile sig_atomic_t *stop,
			 volatile sig_atomic_t *reload);

#endif
