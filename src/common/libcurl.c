/* SPDX-License-Identifier: Apache-2.0 */
#include "common/libcurl.h"

LAZYLIB_DEFINE(libcurl, LIBCURL_FUNCS, "libcurl.so.4", "libcurl4")
