/* SPDX-License-Identifier: Apache-2.0 */
/* libssl (OpenSSL's TLS), opened on first use (common/lazylib.h): call libssl_load() first.
 * libcrypto, which every vigil links, stays an ordinary dependency. */
#ifndef VIGIL_COMMON_LIBSSL_H
#define VIGIL_COMMON_LIBSSL_H

#include <openssl/err.h>
#include <openssl/ssl.h>
#include "common/lazylib.h"

#define LIBSSL_FUNCS(X)                                                                                    \
	X(TLS_client_method) X(SSL_CTX_new) X(SSL_CTX_free) X(SSL_CTX_set_verify)                         \
	X(SSL_CTX_set_default_verify_paths) X(SSL_CTX_load_verify_locations)                              \
	X(SSL_CTX_use_certificate_chain_file) X(SSL_CTX_use_PrivateKey_file) X(SSL_CTX_ctrl) X(SSL_new)  \
	X(SSL_free) X(SSL_set_fd) X(SSL_set1_host) X(SSL_ctrl) X(SSL_connect) X(SSL_write) X(SSL_get_error) \
	X(SSL_shutdown) X(SSL_get_verify_result)

LAZYLIB_TABLE(libssl, LIBSSL_FUNCS)

#define TLS_client_method libssl.TLS_client_method
#define SSL_CTX_new libssl.SSL_CTX_new
#define SSL_CTX_free libssl.SSL_CTX_free
#define SSL_CTX_set_verify libssl.SSL_CTX_set_verify
#define SSL_CTX_set_default_verify_paths libssl.SSL_CTX_set_default_verify_paths
#define SSL_CTX_load_verify_locations libssl.SSL_CTX_load_verify_locations
#define SSL_CTX_use_certificate_chain_file libssl.SSL_CTX_use_certificate_chain_file
#define SSL_CTX_use_PrivateKey_file libssl.SSL_CTX_use_PrivateKey_file
#define SSL_CTX_ctrl libssl.SSL_CTX_ctrl
#define SSL_new libssl.SSL_new
#define SSL_free libssl.SSL_free
#define SSL_set_fd libssl.SSL_set_fd
#define SSL_set1_host libssl.SSL_set1_host
#define SSL_ctrl libssl.SSL_ctrl
#define SSL_connect libssl.SSL_connect
#define SSL_write libssl.SSL_write
#define SSL_get_error libssl.SSL_get_error
#define SSL_shutdown libssl.SSL_shutdown
#define SSL_get_verify_result libssl.SSL_get_verify_result

#endif
