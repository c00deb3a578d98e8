/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hub_apiload: a fixed rate of API requests (open loop: each is due at its
 * time whether or not the previous one finished, so a slow answer cannot hide
 * the ones queued behind it), spread over THREADS keep-alive connections,
 * cycling through a mix of queries; prints the latency percentiles.
 *   hub_apiload URL TOKEN CA RATE SECONDS PATH...
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THREADS 4
static const char *url, *token, *ca;
static double rate, secs;
static char **paths;
static int npaths;
static double *lat, *plat[64];
static long nlat, errors, nplat[64];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static size_t sink(char *p, size_t s, size_t n, void *c)
{
	(void)p;
	*(size_t *)c += s * n;
	return s * n;
}

static double t0;

static void *worker(void *arg)
{
	long id = (long)arg;
	CURL *c = curl_easy_init();
	char auth[512], full[4096];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	struct curl_slist *h = curl_slist_append(NULL, auth);
	long total = (long)(rate * secs);
	for (long i = id; i < total; i += THREADS) {
		double due = t0 + i / rate, t = now();
		if (due > t) {
			struct timespec ts = { (time_t)(due - t), (long)((due - t - (time_t)(due - t)) * 1e9) };
			nanosleep(&ts, NULL);
		}
		size_t got = 0;
		snprintf(full, sizeof(full), "%s%s", url, paths[i % npaths]);
		curl_easy_setopt(c, CURLOPT_URL, full);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
		long code = 0;
		CURLcode rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		double l = now() - due; /* from when it was due: queueing counts */
		pthread_mutex_lock(&mu);
		if (rc != CURLE_OK || code != 200)
			errors++;
		lat[nlat++] = l;
		if (i % npaths < 64)
			plat[i % npaths][nplat[i % npaths]++] = l;
		pthread_mutex_unlock(&mu);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 7) {
		fprintf(stderr, "usage: hub_apiload URL TOKEN CA RATE SECONDS PATH...\n");
		return 2;
	}
	url = argv[1], token = argv[2], ca = argv[3], rate = atof(argv[4]), secs = atof(argv[5]);
	paths = argv + 6, npaths = argc - 6;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	lat = calloc((size_t)(rate * secs) + 1, sizeof(*lat));
	for (int i = 0; i < npaths && i < 64; i++)
		plat[i] = calloc((size_t)(rate * secs) + 1, sizeof(double));
	pthread_t th[THREADS];
	t0 = now() + 0.05;
	for (long i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	qsort(lat, (size_t)nlat, sizeof(*lat), cmp);
	printf("requests %ld errors %ld p50_ms %.2f p90_ms %.2f p99_ms %.2f max_ms %.2f\n", nlat, errors,
	       nlat ? lat[nlat / 2] * 1e3 : 0, nlat ? lat[nlat * 9 / 10] * 1e3 : 0, nlat ? lat[nlat * 99 / 100] * 1e3 : 0,
	       nlat ? lat[nlat - 1] * 1e3 : 0);
	for (int i = 0; i < npaths && i < 64; i++) {
		qsort(plat[i], (size_t)nplat[i], sizeof(double), cmp);
		long k = nplat[i];
		printf("  p50_ms %8.2f p99_ms %8.2f  %s\n", k ? plat[i][k / 2] * 1e3 : 0, k ? plat[i][k * 99 / 100] * 1e3 : 0, paths[i]);
	}
	return errors ? 1 : 0;
}
