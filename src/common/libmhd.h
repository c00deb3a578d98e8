/* SPDX-License-Identifier: Apache-2.0 */
/* libmicrohttpd, opened on first use (common/lazylib.h): call libmhd_load() first. */
#ifndef VIGIL_COMMON_LIBMHD_H
#define VIGIL_COMMON_LIBMHD_H

#include <microhttpd.h>
#include "common/lazylib.h"

#define LIBMHD_FUNCS(X)                                                                               \
	X(MHD_is_feature_supported) X(MHD_start_daemon) X(MHD_stop_daemon) X(MHD_quiesce_daemon)        \
	X(MHD_get_daemon_info) X(MHD_lookup_connection_value) X(MHD_create_response_from_buffer)        \
	X(MHD_add_response_header) X(MHD_queue_response) X(MHD_destroy_response)                    \
	X(MHD_get_connection_values) X(MHD_create_response_from_callback) X(MHD_suspend_connection)     \
	X(MHD_resume_connection)

LAZYLIB_TABLE(libmhd, LIBMHD_FUNCS)

#define MHD_is_feature_supported libmhd.MHD_is_feature_supported
#define MHD_start_daemon libmhd.MHD_start_daemon
#define MHD_stop_daemon libmhd.MHD_stop_daemon
#define MHD_quiesce_daemon libmhd.MHD_quiesce_daemon
#define MHD_get_daemon_info libmhd.MHD_get_daemon_info
#define MHD_lookup_connection_value libmhd.MHD_lookup_connection_value
#define MHD_create_response_from_buffer libmhd.MHD_create_response_from_buffer
#define MHD_add_response_header libmhd.MHD_add_response_header
#define MHD_queue_response libmhd.MHD_queue_response
#define MHD_destroy_response libmhd.MHD_destroy_response
#define MHD_get_connection_values libmhd.MHD_get_connection_values
#define MHD_create_response_from_callback libmhd.MHD_create_response_from_callback
#define MHD_suspend_connection libmhd.MHD_suspend_connection
#define MHD_resume_connection libmhd.MHD_resume_connection

#endif
