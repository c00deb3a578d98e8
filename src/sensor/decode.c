/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include "sensor/decode.h"

/* Does the parameter body fit its capture kind? Empty bodies mean "not captured". */
static int param_valid(uint8_t kind, const char *d, uint16_t len)
{
	if (len == 0)
		return 1;
	switch (kind) {
	case VG_CK_ARG:
	case VG_CK_USER_U64:
	case VG_CK_PIDFD:
		return len == 8;
	case VG_CK_TUPLE:
		return len == sizeof(struct vg_tuple);
	case VG_CK_EXE_INFO:
		return len == sizeof(struct vg_exe_info);
	case VG_CK_STR:
	case VG_CK_FD_PATH:
	case VG_CK_CWD:
	case VG_CK_KSTR:
	case VG_CK_PATH:
	case VG_CK_BPF_PATH:
	case VG_CK_EXE: /* raw path NUL base NUL: ends with a NUL, so the first string ends inside */
		return d[len - 1] == 0;
	case VG_CK_SOCKADDR:
		return len <= VG_SOCKADDR_MAX;
	case VG_CK_ARGV:
	case VG_CK_ENV:
		return len <= VG_ARGV_MAX;
	case VG_CK_BLOB:
		return 1;
	}
	return 0;
}

int event_decode(const void *data, size_t len, struct vg_event *ev, char *err, size_t errlen)
{
	const char *p = data;
	size_t off;

	/* no memset of the whole event: at a few million records a second, the
	 * ~350-byte clear was a third of decoding; every field is set below */
	ev->info = NULL;
	ev->nparams = 0;
	ev->raw = NULL;
	ev->raw_len = 0;
	if (len < sizeof(ev->hdr)) {
		snprintf(err, errlen, "record of %zu bytes is shorter than its header", len);
		return -1;
	}
	memcpy(&ev->hdr, p, sizeof(ev->hdr));
	if (ev->hdr.len != len) {
		snprintf(err, errlen, "record length field %u does not match its size %zu", ev->hdr.len, len);
		return -1;
	}
	ev->info = event_table_get(ev->hdr.type);
	if (!ev->info) {
		snprintf(err, errlen, "unknown event type %u", ev->hdr.type);
		return -1;
	}
	/* the table's parameters, all absent until the record provides them; past the table: zero */
	unsigned int known = ev->info->nparams < VG_MAX_PARAMS ? ev->info->nparams : VG_MAX_PARAMS;
	for (unsigned int i = 0; i < known; i++)
		ev->params[i] = (struct vg_param_val){ .info = &ev->info->params[i] };
	for (unsigned int i = known; i < VG_MAX_PARAMS; i++)
		ev->params[i] = (struct vg_param_val){ 0 };
	off = sizeof(ev->hdr);
	for (unsigned int i = 0; i < ev->hdr.nparams; i++) {
		uint16_t plen;
		if (len - off < sizeof(plen)) {
			snprintf(err, errlen, "%s: parameter %u length is cut off", ev->info->name, i);
			return -1;
		}
		memcpy(&plen, p + off, sizeof(plen));
		off += sizeof(plen);
		if (len - off < plen) {
			snprintf(err, errlen, "%s: parameter %u (%u bytes) overruns the record", ev->info->name, i,
				 plen);
			return -1;
		}
		if (i < ev->info->nparams) {
			const struct vg_param_info *pi = &ev->info->params[i];
			if (!param_valid(pi->kind, p + off, plen)) {
				snprintf(err, errlen, "%s: parameter '%s' is malformed (%u bytes)", ev->info->name,
					 pi->name, plen);
				return -1;
			}
			ev->params[i].data = plen ? p + off : NULL;
			ev->params[i].len = plen;
			ev->nparams = i + 1;
		}
		off += plen;
	}
	if (off != len) {
		snprintf(err, errlen, "%s: %zu bytes left over after the parameters", ev->info->name, len - off);
		return -1;
	}
	ev->raw = data;
	ev->raw_len = len;
	return 0;
}

const struct vg_param_val *event_param(const struct vg_event *ev, const char *name)
{
	for (unsigned int i = 0; i < ev->info->nparams; i++)
		if (strcmp(ev->info->params[i].name, name) == 0)
			return &ev->params[i];
	return NULL;
}

int64_t event_param_int(const struct vg_event *ev, unsigned int i)
{
	int64_t v = 0;
	if (i < ev->nparams && ev->params[i].len == sizeof(v))
		memcpy(&v, ev->params[i].data, sizeof(v));
	return v;
}

const char *event_param_str(const struct vg_event *ev, unsigned int i)
{
	if (i >= ev->nparams || !ev->params[i].data)
		return "";
	return ev->params[i].data; /* validated: NUL-terminated */
}

const char *event_param_base(const struct vg_event *ev, unsigned int i)
{
	const struct vg_param_val *pv;
	size_t first;

	if (i >= ev->nparams || !ev->params[i].data)
		return "";
	pv = &ev->params[i];
	if (pv->info->kind != VG_CK_PATH && pv->info->kind != VG_CK_EXE)
		return "";
	first = strlen(pv->data) + 1;
	return first < pv->len ? pv->data + first : "";
}
