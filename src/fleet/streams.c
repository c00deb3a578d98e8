/* SPDX-License-Identifier: Apache-2.0 */
#include "fleet/streams.h"
#include "fleet/policy.h"
#include "fleet/profile_msg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S ((int64_t)1000000000)
#define DEFAULT_MAX_AGE (7LL * 24 * 3600 * NS_PER_S)
#define DEFAULT_DUP_WINDOW (120LL * NS_PER_S)
#define HEARTBEAT_DUP_WINDOW (60LL * NS_PER_S)
#define FLOWS_MAX_AGE (1LL * 24 * 3600 * NS_PER_S)

int64_t fleet_parse_duration(const char *s)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = { { "ms", 1000000LL }, { "s", NS_PER_S }, { "m", 60 * NS_PER_S },
		      { "h", 3600 * NS_PER_S }, { "d", 86400 * NS_PER_S }, { NULL, 0 } };
	char *end;
	if (!s || !*s)
		return -2;
	if (!strcmp(s, "none") || !strcmp(s, "0"))
		return -1;
	double v = strtod(s, &end);
	if (end == s || !(v > 0) || v > 1e6) /* NaN too */
		return -2;
	for (int i = 0; units[i].unit; i++)
		if (!strcmp(end, units[i].unit)) {
			double ns = v * (double)units[i].ns;
			return ns >= 1 && ns < 9e18 ? (int64_t)ns : -2;
		}
	return -2;
}

int64_t fleet_parse_size(const char *s)
{
	char *end;
	if (!s || !*s)
		return -2;
	if (!strcmp(s, "none") || !strcmp(s, "-1"))
		return -1;
	double v = strtod(s, &end);
	if (end == s || !(v > 0) || v > 1e18) /* NaN too */
		return -2;
	int64_t mult = 1;
	if (!strcmp(end, "K") || !strcmp(end, "KiB"))
		mult = 1LL << 10;
	else if (!strcmp(end, "M") || !strcmp(end, "MiB"))
		mult = 1LL << 20;
	else if (!strcmp(end, "G") || !strcmp(end, "GiB"))
		mult = 1LL << 30;
	else if (!strcmp(end, "T") || !strcmp(end, "TiB"))
		mult = 1LL << 40;
	else if (*end)
		return -2;
	double bytes = v * (double)mult;
	return bytes >= 1 && bytes < 9e18 ? (int64_t)bytes : -2;
}

static void fmt_dur(char *buf, size_t len, int64_t ns)
{
	if (ns <= 0)
		snprintf(buf, len, "unlimited");
	else if (ns % (86400 * NS_PER_S) == 0)
		snprintf(buf, len, "%" PRId64 "d", ns / (86400 * NS_PER_S));
	else if (ns % (3600 * NS_PER_S) == 0)
		snprintf(buf, len, "%" PRId64 "h", ns / (3600 * NS_PER_S));
	else if (ns % (60 * NS_PER_S) == 0)
		snprintf(buf, len, "%" PRId64 "m", ns / (60 * NS_PER_S));
	else if (ns % NS_PER_S == 0)
		snprintf(buf, len, "%" PRId64 "s", ns / NS_PER_S);
	else
		snprintf(buf, len, "%" PRId64 "ms", ns / 1000000);
}

static void fmt_size(char *buf, size_t len, int64_t b)
{
	if (b <= 0)
		snprintf(buf, len, "unlimited");
	else if (b % (1LL << 30) == 0)
		snprintf(buf, len, "%" PRId64 "G", b >> 30);
	else if (b % (1LL << 20) == 0)
		snprintf(buf, len, "%" PRId64 "M", b >> 20);
	else
		snprintf(buf, len, "%" PRId64, b);
}

/* What a stream should be; subjects are the contract's, the rest from o, else from old or defaults. */
struct want {
	const char *name;
	const char **subjects;
	int nsubjects;
	int64_t per_subject; /* max messages per subject, -1 unlimited */
	int64_t dup;
	int64_t max_age; /* the default on creation; 0: DEFAULT_MAX_AGE */
};

static bool same_subjects(const jsStreamConfig *c, const struct want *w)
{
	if (c->SubjectsLen != w->nsubjects)
		return false;
	for (int i = 0; i < w->nsubjects; i++)
		if (strcmp(c->Subjects[i], w->subjects[i]))
			return false;
	return true;
}

static int one_stream(jsCtx *js, const struct want *w, const struct fleet_stream_opts *o, struct vg_buf *report,
		      char *err, size_t errlen)
{
	jsStreamInfo *si = NULL, *out = NULL;
	jsErrCode jerr = 0;
	jsStreamConfig cfg;
	char text[256], a[32], b[32];
	natsStatus s = js_GetStreamInfo(&si, js, w->name, NULL, &jerr);
	bool create = s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr;

	if (s != NATS_OK && !create) {
		snprintf(err, errlen, "stream %s: %s", w->name, fleet_status_text(s, text, sizeof(text)));
		return -1;
	}
	if (create) {
		jsStreamConfig_Init(&cfg);
		cfg.Name = w->name;
		cfg.Storage = js_FileStorage;
		cfg.Retention = js_LimitsPolicy;
		cfg.Discard = js_DiscardOld;
		cfg.Replicas = o->replicas ? o->replicas : 1;
		cfg.MaxAge = o->max_age_ns > 0 ? o->max_age_ns : o->max_age_ns == -1 ? 0 : w->max_age ? w->max_age : DEFAULT_MAX_AGE;
		cfg.MaxBytes = o->max_bytes > 0 ? o->max_bytes : -1;
		cfg.Duplicates = o->dup_window_ns > 0 ? o->dup_window_ns : w->dup;
	} else {
		cfg = *si->Config;
		if (o->replicas)
			cfg.Replicas = o->replicas;
		if (o->max_age_ns)
			cfg.MaxAge = o->max_age_ns > 0 ? o->max_age_ns : 0;
		if (o->max_bytes != -2 && o->max_bytes != 0)
			cfg.MaxBytes = o->max_bytes > 0 ? o->max_bytes : -1;
		if (o->dup_window_ns > 0)
			cfg.Duplicates = o->dup_window_ns;
	}
	cfg.Subjects = w->subjects;
	cfg.SubjectsLen = w->nsubjects;
	cfg.MaxMsgsPerSubject = w->per_subject;

	struct vg_buf changes = { 0 };
	if (!create) {
		const jsStreamConfig *old = si->Config;
		if (!same_subjects(old, w))
			buf_adds(&changes, ", subjects");
		if (old->Replicas != cfg.Replicas)
			buf_printf(&changes, ", replicas %" PRId64 " -> %" PRId64, old->Replicas, cfg.Replicas);
		if (old->MaxAge != cfg.MaxAge) {
			fmt_dur(a, sizeof(a), old->MaxAge);
			fmt_dur(b, sizeof(b), cfg.MaxAge);
			buf_printf(&changes, ", max age %s -> %s", a, b);
		}
		if (old->MaxBytes != cfg.MaxBytes) {
			fmt_size(a, sizeof(a), old->MaxBytes);
			fmt_size(b, sizeof(b), cfg.MaxBytes);
			buf_printf(&changes, ", max bytes %s -> %s", a, b);
		}
		if (old->Duplicates != cfg.Duplicates) {
			fmt_dur(a, sizeof(a), old->Duplicates);
			fmt_dur(b, sizeof(b), cfg.Duplicates);
			buf_printf(&changes, ", duplicate window %s -> %s", a, b);
		}
		if (old->MaxMsgsPerSubject != cfg.MaxMsgsPerSubject)
			buf_printf(&changes, ", messages per subject %" PRId64 " -> %" PRId64, old->MaxMsgsPerSubject,
				   cfg.MaxMsgsPerSubject);
		if (!changes.len) {
			buf_printf(report, "%s: unchanged\n", w->name);
			jsStreamInfo_Destroy(si);
			return 0;
		}
		s = js_UpdateStream(&out, js, &cfg, NULL, &jerr);
	} else {
		s = js_AddStream(&out, js, &cfg, NULL, &jerr);
	}
	int rc = 0;
	if (s != NATS_OK) {
		snprintf(err, errlen, "cannot %s stream %s: %s (JetStream error %d)", create ? "create" : "update",
			 w->name, fleet_status_text(s, text, sizeof(text)), (int)jerr);
		rc = -1;
	} else if (create) {
		fmt_dur(a, sizeof(a), cfg.MaxAge);
		fmt_size(b, sizeof(b), cfg.MaxBytes);
		char d[32];
		fmt_dur(d, sizeof(d), cfg.Duplicates);
		buf_printf(report, "%s: created (replicas %" PRId64 ", max age %s, max bytes %s, duplicate window %s)\n",
			   w->name, cfg.Replicas, a, b, d);
	} else {
		buf_printf(report, "%s: updated: %s\n", w->name, changes.data + 2);
	}
	buf_free(&changes);
	jsStreamInfo_Destroy(out);
	jsStreamInfo_Destroy(si);
	return rc;
}

static int ensure_bucket(jsCtx *js, const struct fleet_stream_opts *o, struct vg_buf *report, char *err,
			 size_t errlen, const char *bucket, const char *desc, int history, int32_t max_value)
{
	kvStore *kv = NULL;
	kvConfig kc;
	char text[256];
	natsStatus s = js_KeyValue(&kv, js, bucket);

	if (s == NATS_OK) {
		kvStore_Destroy(kv);
		/* the bucket is the stream KV_<bucket>: only its replicas are ours to change */
		jsStreamInfo *si = NULL, *out = NULL;
		char kvname[96];
		snprintf(kvname, sizeof(kvname), "KV_%s", bucket);
		jsErrCode jerr = 0;
		s = js_GetStreamInfo(&si, js, kvname, NULL, &jerr);
		if (s == NATS_OK && o->replicas && si->Config->Replicas != o->replicas) {
			jsStreamConfig cfg = *si->Config;
			int64_t was = cfg.Replicas;
			cfg.Replicas = o->replicas;
			s = js_UpdateStream(&out, js, &cfg, NULL, &jerr);
			if (s == NATS_OK)
				buf_printf(report, "%s (key-value): updated: replicas %" PRId64 " -> %d\n",
					   bucket, was, o->replicas);
		} else if (s == NATS_OK) {
			buf_printf(report, "%s (key-value): unchanged\n", bucket);
		}
		jsStreamInfo_Destroy(out);
		jsStreamInfo_Destroy(si);
		if (s != NATS_OK) {
			snprintf(err, errlen, "bucket %s: %s", bucket, fleet_status_text(s, text, sizeof(text)));
			return -1;
		}
		return 0;
	}
	if (s != NATS_NOT_FOUND) {
		snprintf(err, errlen, "bucket %s: %s", bucket, fleet_status_text(s, text, sizeof(text)));
		return -1;
	}
	kvConfig_Init(&kc);
	kc.Bucket = bucket;
	kc.Description = desc;
	kc.History = history;
	kc.MaxValueSize = max_value;
	kc.StorageType = js_FileStorage;
	kc.Replicas = o->replicas ? o->replicas : 1;
	s = js_CreateKeyValue(&kv, js, &kc);
	if (s != NATS_OK) {
		snprintf(err, errlen, "cannot create bucket %s: %s", bucket,
			 fleet_status_text(s, text, sizeof(text)));
		return -1;
	}
	kvStore_Destroy(kv);
	buf_printf(report, "%s (key-value): created (replicas %d, history %d)\n", bucket, kc.Replicas,
		   history);
	return 0;
}

int fleet_streams_init(struct fleet_conn *c, const struct fleet_stream_opts *o, struct vg_buf *report, char *err,
		       size_t errlen)
{
	static const char *alert_subjects[] = { "vigil.*.*.alert", "vigil.*.*.action", "vigil.*.*.loss",
						"vigil.*.*.scan", "vigil.*.*.admission" };
	static const char *hb_subjects[] = { "vigil.*.*.heartbeat" };
	const struct want alerts = { FLEET_STREAM_ALERTS, alert_subjects,
				     (int)(sizeof(alert_subjects) / sizeof(*alert_subjects)), -1, DEFAULT_DUP_WINDOW };
	const struct want hbs = { FLEET_STREAM_HEARTBEATS, hb_subjects, 1, 1, HEARTBEAT_DUP_WINDOW };
	jsCtx *js = fleet_js(c);

	if (o->replicas && o->replicas != 1 && o->replicas != 3) {
		snprintf(err, errlen, "replicas must be 1 or 3, not %d", o->replicas);
		return -1;
	}
	if (one_stream(js, &alerts, o, report, err, errlen))
		return -1;
	/* the heartbeats keep their own duplicate window: an hour's worth would be wasted on them */
	struct fleet_stream_opts ho = *o;
	ho.dup_window_ns = 0;
	if (one_stream(js, &hbs, &ho, report, err, errlen))
		return -1;
	/* flows: their own max age (--flows-max-age), the rest as the alerts' */
	static const char *flow_subjects[] = { "vigil.*.*.flows" };
	const struct want flows = { FLEET_STREAM_FLOWS, flow_subjects, 1, -1, DEFAULT_DUP_WINDOW, FLOWS_MAX_AGE };
	struct fleet_stream_opts fo = *o;
	fo.max_age_ns = o->flows_max_age_ns;
	if (one_stream(js, &flows, &fo, report, err, errlen))
		return -1;
	if (ensure_bucket(js, o, report, err, errlen, POLICY_BUCKET,
			  "Vigil central policy: rules, response, file and egress policies", POLICY_HISTORY,
			  (int32_t)POLICY_MAX_VALUE))
		return -1;
	/* profiles (docs/profiles.md, "In a fleet"): what nodes learnt, for the hubs; the merged ones */
	static const char *profile_subjects[] = { PROFILE_SUBJECTS };
	const struct want profiles = { PROFILE_STREAM, profile_subjects, 1, -1, DEFAULT_DUP_WINDOW };
	if (one_stream(js, &profiles, o, report, err, errlen))
		return -1;
	return ensure_bucket(js, o, report, err, errlen, PROFILE_BUCKET, "Vigil behaviour profiles, merged from every node",
			     8, (int32_t)PROFILE_DOC_MAX_BYTES);
}
