/* SPDX-License-Identifier: Apache-2.0 */
#include "scan/sources/libarchive.h"

LAZYLIB_DEFINE(libarchive, LIBARCHIVE_FUNCS, "libarchive.so.13", "libarchive13")
