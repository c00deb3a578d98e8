/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The /metrics endpoint: a tiny HTTP/1.1 responder on its own thread that
 * answers GET (and HEAD) /metrics with metrics_render() in the text
 * exposition format 0.0.4, and nothing else (404, 405, 400). One connection
 * at a time, requests of at most 8 KiB, 5 s to send one, the connection closed
 * after each answer: it is read by a scraper, not browsed.
 */
#ifndef VIGIL_OUTPUT_METRICS_HTTP_H
#define VIGIL_OUTPUT_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct metrics_http;

/*
 * Listen on addr: "HOST:PORT", "[V6]:PORT" or ":PORT" (every address); port 0
 * takes a free one. The address it listens on is logged ("metrics: listening
 * on http://127.0.0.1:PORT/metrics"). NULL with the reason in err.
 */
struct metrics_http *metrics_http_start(const char *addr, char *err, size_t errlen);
/* The port it listens on. */
int metrics_http_port(const struct metrics_http *h);
/*
 * The answer to a request's head (NUL-terminated): 200 for GET or HEAD
 * /metrics[?...] (head set for HEAD), 404 for another path, 405 for another
 * method, 400 when the request line does not parse. Can't fail.
 */
int metrics_http_parse(const char *req, bool *head);
/* Stop the thread and close. NULL is fine. */
void metrics_http_stop(struct metrics_http *h);

#endif
