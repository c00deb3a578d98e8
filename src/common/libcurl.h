/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl, opened on first use (common/lazylib.h): call libcurl_load() first. */
#ifndef VIGIL_COMMON_LIBCURL_H
#define VIGIL_COMMON_LIBCURL_H

#define CURL_DISABLE_TYPECHECK /* its checking macros would call the names below directly */
#include <curl/curl.h>
#include "common/lazylib.h"

#define LIBCURL_FUNCS(X)                                                                             \
	X(curl_easy_init) X(curl_easy_cleanup) X(curl_easy_reset) X(curl_easy_setopt) X(curl_easy_perform) \
	X(curl_easy_strerror) X(curl_easy_escape) X(curl_free) X(curl_slist_append) X(curl_slist_free_all) X(curl_easy_getinfo)

LAZYLIB_TABLE(libcurl, LIBCURL_FUNCS)

#undef curl_easy_setopt /* curl.h's argument-count guards */
#undef curl_easy_getinfo
#define curl_easy_init libcurl.curl_easy_init
#define curl_easy_cleanup libcurl.curl_easy_cleanup
#define curl_easy_reset libcurl.curl_easy_reset
#define curl_easy_setopt libcurl.curl_easy_setopt
#define curl_easy_perform libcurl.curl_easy_perform
#define curl_easy_strerror libcurl.curl_easy_strerror
#define curl_easy_escape libcurl.curl_easy_escape
#define curl_free libcurl.curl_free
#define curl_slist_append libcurl.curl_slist_append
#define curl_slist_free_all libcurl.curl_slist_free_all
#define curl_easy_getinfo libcurl.curl_easy_getinfo

#endif
