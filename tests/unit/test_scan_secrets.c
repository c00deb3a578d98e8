/* SPDX-License-Identifier: Apache-2.0 */
/* Secret rules: what they find (layer, line, redaction) and what they must not. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "scan/catalogers/secrets.h"

/* "rule:line:match" of every finding, one a line. */
static char *scan(struct secrets *s, const char *text, size_t len)
{
	struct scan_result r = { 0 };
	struct vg_buf b = { 0 };

	secrets_scan(s, text, len, "f", &r, 0, 1);
	for (size_t i = 0; i < r.nsecrets; i++)
		buf_printf(&b, "%s:%u:%s\n", r.secrets[i].rule, r.secrets[i].line, r.secrets[i].match);
	scan_result_free(&r);
	return b.data ? b.data : xstrdup("");
}

static void expect(struct secrets *s, const char *text, const char *want)
{
	char *got = scan(s, text, strlen(text));
	if (strcmp(got, want))
		fail_msg("input:\n%s\ngot:\n%s\nwant:\n%s", text, got, want);
	free(got);
}

static void test_found(void **state)
{
	struct secrets *s = secrets_new();
	(void)state;
	expect(s, "# config\n[default]\naws_access_key_id = AKIAZ7Q2W3E4R5T6Y7U8\n",
	       "aws-access-key-id:3:AKIA****************\n");
	expect(s, "x\ny\nexport GH=ghp_0123456789abcdefghijABCDEFGHIJ012345\n",
	       "github-token:3:ghp_****************\n");
	expect(s, "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n",
	       "private-key:1:-----BEGIN OPENSSH PRIVATE KEY-----\n");
	expect(s, "DATABASE_URL=postgres://app:S3cr3tPw0rd@db.internal:5432/app\n",
	       "password-in-url:1:****************\n");
	expect(s, "api_key: \"Zx8Qm2Lp9Vt4Rw7Ks1Nd\"\n", "generic-secret:1:Zx8Q****************\n");
	expect(s, "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY3XAMPLEKEY\n",
	       "aws-secret-access-key:1:wJal****************\n");
	secrets_free(s);
}

static void test_not_found(void **state)
{
	struct secrets *s = secrets_new();
	(void)state;
	/* identifiers, examples and placeholders are not secrets */
	expect(s, "token_type = 'bare-quoted-string'\n", "");
	expect(s, "see 'http://username:password@host.com:80/path'\n", "");
	expect(s, "url = 'https://user:xxxxxx@example.com/'\n", "");
	expect(s, "url = 'https://user:${PASSWORD}@example.com/'\n", "");
	expect(s, "password = 'aaaaaaaaaaaaaaaaaaaa'\n", "");
	expect(s, "AKIA is the prefix of AWS keys\n", "");
	/* binary files are skipped */
	static const char bin[] = "\x7f" "ELF\0\0\0AKIAZ7Q2W3E4R5T6Y7U8";
	char *got = scan(s, bin, sizeof(bin) - 1);
	assert_string_equal(got, "");
	free(got);
	secrets_free(s);
}

/*
 * The keyword pass reads 4 bytes at even offsets: a secret is found whatever
 * its offset's parity, its keyword's case, and however close it is to either
 * end of the file.
 */
static void test_every_offset(void **state)
{
	struct secrets *s = secrets_new();
	(void)state;
	static const char *const secrets[] = {
		"AKIAZ7Q2W3E4R5T6Y7U8",
		"ghp_0123456789abcdefghijABCDEFGHIJ012345",
		"-----BEGIN RSA PRIVATE KEY-----",
		"-----BEGIN rsa private key-----", /* the keyword in another case: no match, by the regex */
		"postgres://app:S3cr3tPw0rd@db",
		"TOKEN=\"Zx8Qm2Lp9Vt4Rw7Ks1Nd\"",
	};
	static const char *const want[] = {
		"aws-access-key-id", "github-token", "private-key", NULL, "password-in-url", "generic-secret",
	};
	for (size_t k = 0; k < sizeof(secrets) / sizeof(*secrets); k++)
		for (size_t pre = 0; pre < 9; pre++)
			for (size_t post = 0; post < 3; post++) {
				char text[256];
				int n = snprintf(text, sizeof(text), "%.*s%s%.*s", (int)pre, " ;,( )\n# ", secrets[k],
						 (int)post, "  ");
				char *got = scan(s, text, (size_t)n);
				bool found = strstr(got, want[k] ? want[k] : "\x01") != NULL;
				if (found != (want[k] != NULL))
					fail_msg("'%s' at offset %zu, %zu after: got '%s'", secrets[k], pre, post, got);
				free(got);
			}
	secrets_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_every_offset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
