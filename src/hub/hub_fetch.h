/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pull fetch that never overruns libnats 3.4's message array.
 *
 * libnats 3.4.1's natsSubscription_Fetch(list, sub, batch, ...) first takes the
 * messages already waiting in the subscription (delivered for an earlier
 * request after the fetch that made it had returned), then asks the server for
 * "batch - taken" more and lowers its own count of what is wanted to that
 * number, yet keeps comparing the messages it holds with it: with more than
 * half a batch waiting, what it holds is already past what it wants, it does
 * not stop at the batch, and it writes the next messages past the end of its
 * array of "batch" pointers (heap corruption: glibc's "double free or
 * corruption" later, or a list whose Count exceeds batch). Found with valgrind
 * on a hub under load (docs/fleet.md, "Figures").
 *
 * hub_fetch() takes what is waiting one message a call (a fetch of batch 1,
 * which cannot overrun, and which sends no request when one waits), and makes a
 * fetch of the whole batch only when nothing waits. Same contract as
 * natsSubscription_Fetch: NATS_OK with 1..batch messages in list (free with
 * natsMsgList_Destroy), or a status with list empty.
 */
#ifndef VIGIL_HUB_FETCH_H
#define VIGIL_HUB_FETCH_H

#include <stdint.h>
#include <nats/nats.h>

natsStatus hub_fetch(natsMsgList *list, natsSubscription *sub, int batch, int64_t timeout_ms, jsErrCode *jerr);

#endif
