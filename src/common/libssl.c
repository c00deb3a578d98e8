/* SPDX-License-Identifier: Apache-2.0 */
#include "common/libssl.h"

LAZYLIB_DEFINE(libssl, LIBSSL_FUNCS, "libssl.so.3", "libssl3")
