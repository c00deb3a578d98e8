/* SPDX-License-Identifier: Apache-2.0 */
#include "common/libmhd.h"

LAZYLIB_DEFINE(libmhd, LIBMHD_FUNCS, "libmicrohttpd.so.12", "libmicrohttpd12")
