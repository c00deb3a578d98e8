/* SPDX-License-Identifier: Apache-2.0 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "common/lazylib.h"

static pthread_mutex_t lazylib_lock = PTHREAD_MUTEX_INITIALIZER;

static int lazylib_open(struct lazylib *lib)
{
	void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(lib->err, sizeof(lib->err), "cannot load %s: %s (install the %s package)", lib->soname,
			 dlerror(), lib->package);
		return -1;
	}
	for (size_t i = 0; i < lib->n; i++) {
		void *f = dlsym(h, lib->names[i]);
		if (!f) {
			snprintf(lib->err, sizeof(lib->err), "cannot load %s: it has no %s (too old a version?)",
				 lib->soname, lib->names[i]);
			dlclose(h);
			return -1;
		}
		/* function pointers are data pointers' size on every platform dlsym serves */
		memcpy((char *)lib->table + i * sizeof(f), &f, sizeof(f));
	}
	return 0; /* the handle stays open for the life of the process */
}

const char *lazylib_load(struct lazylib *lib)
{
	int state;

	pthread_mutex_lock(&lazylib_lock);
	if (lib->state == 0)
		lib->state = lazylib_open(lib) == 0 ? 1 : -1;
	state = lib->state;
	pthread_mutex_unlock(&lazylib_lock);
	return state > 0 ? NULL : lib->err;
}
