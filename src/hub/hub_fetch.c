/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "hub/hub_fetch.h"

static int waiting(natsSubscription *sub)
{
	int msgs = 0, bytes = 0;
	if (natsSubscription_GetPending(sub, &msgs, &bytes) != NATS_OK)
		return 0;
	return msgs;
}

natsStatus hub_fetch(natsMsgList *list, natsSubscription *sub, int batch, int64_t timeout_ms, jsErrCode *jerr)
{
	memset(list, 0, sizeof(*list));
	if (jerr)
		*jerr = 0;
	if (batch <= 1 || !waiting(sub))
		return natsSubscription_Fetch(list, sub, batch < 1 ? 1 : batch, timeout_ms, jerr);
	/* messages wait (or statuses of earlier requests): one a fetch, up to the batch */
	natsMsg **msgs = xcalloc((size_t)batch, sizeof(*msgs));
	int n = 0;
	natsStatus s = NATS_OK;
	while (n < batch && waiting(sub)) {
		natsMsgList one = { 0 };
		/* a waiting status alone makes this one ask the server for a message and wait:
		 * briefly, as the caller's fetch would have */
		s = natsSubscription_Fetch(&one, sub, 1, n ? 1 : timeout_ms, jerr);
		if (s != NATS_OK)
			break;
		for (int i = 0; i < one.Count && n < batch; i++) {
			msgs[n++] = one.Msgs[i];
			one.Msgs[i] = NULL;
		}
		natsMsgList_Destroy(&one); /* the array (and nothing else: batch 1 returns at most one) */
	}
	if (!n) {
		free(msgs);
		return s == NATS_OK ? NATS_TIMEOUT : s;
	}
	list->Msgs = msgs;
	list->Count = n;
	return NATS_OK;
}
