/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What profiles take from the event stream: which event types (and which of
 * their records) make observations, the observations of one event, and the
 * workload an event belongs to (its profile key).
 */
#ifndef VIGIL_PROFILE_EVENTS_H
#define VIGIL_PROFILE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vigil/event.h"
#include "profile/profile.h"
#include "sensor/decode.h"
#include "state/container_meta.h"
#include "state/flow.h"
#include "state/state.h"

/*
 * THE table of what profiles need from the kernel, whatever the rules load:
 * each event type with the condition under which a record of it is used. An
 * event filter in the kernel must keep the records these conditions allow
 * (of container cgroups only: host processes are not profiled).
 */
struct profile_need {
	enum vg_event_type type;
	const char *condition; /* in Falco's words, for people and docs/profiles.md */
};
extern const struct profile_need profile_needs[];
extern const size_t profile_nneeds;

/* Mark the types of profile_needs in want (flows: flow_tcp/flow_udp also; else connect). */
void profile_want(uint8_t want[VG_EVT_MAX], bool flows);

/* The workload of a container: its key and what the header shows. */
struct profile_ident {
	char key[PROF_KEY_MAX];
	char image[256];
	char digest[80];
	char owner[256]; /* "Deployment/web", "StatefulSet/db", "Workload/x", "Pod/x", or "" */
	char ns[128];
	char lineage[PROF_KEY_MAX]; /* what survives a new digest: owner or repository (inherit) */
};

/*
 * The identity of a container from its metadata: false for the host, or a
 * container whose image is unknown (not profiled). Documented rules in
 * docs/profiles.md ("Keys").
 */
bool profile_ident_of(const struct vg_container_meta *m, struct profile_ident *out);
/* The Kubernetes owner of a pod from its name, by the controllers' naming: "Deployment/NAME", ... */
void profile_pod_owner(const char *pod, char *out, size_t outlen);

#define PROF_OBS_MAX 2
struct profile_obs {
	enum profile_kind kind;
	char value[PROF_VALUE_MAX]; /* as observed; profile_observe generalises it */
};

/*
 * The observations of one event (after the state ingested it): 0..max. With
 * use_connect, connect records give outbound peers (without flows).
 */
/* A connect refused with EPERM (by a protecting profile's egress list): its destination
 * "IP:PORT" ("[IP]:PORT") in value, true. */
bool profile_connect_refused(const struct vg_event *ev, char *value, size_t len);
size_t profile_observations(const struct vg_event *ev, const struct vg_state *st, bool use_connect,
			    struct profile_obs *out, size_t max);
/* An outbound flow's first report as an observation (false: not one to profile). */
bool profile_flow_observation(const struct vg_flow *f, struct profile_obs *out);

/*
 * "PROGRAM" for an exe, its comm and argv[0] (may be NULL): the exe, or "EXE as NAME"
 * when the name it was run as (argv[0]'s basename, else comm) is not the exe's own:
 * a multi-call binary (busybox) or a script run by its interpreter.
 */
void profile_program(const char *exe, const char *comm, const char *argv0, char *out, size_t outlen);

#endif
