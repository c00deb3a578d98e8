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


/*
 * The fast search (keyword pass, anchored tries at the starts keywords allow)
 * against each pattern searched over the whole file: the same findings, with
 * the AVX2 pass and without. Returns how many.
 */
static struct secrets *vec, *sca;

static size_t same(const char *text, size_t len)
{
	struct scan_result a = { 0 }, b = { 0 }, c = { 0 };
	struct vg_buf x = { 0 }, y = { 0 }, z = { 0 };
	struct scan_result *rs[] = { &a, &b, &c };
	struct vg_buf *bs[] = { &x, &y, &z };

	secrets_scan(vec, text, len, "f", &a, 0, 1);
	secrets_scan(sca, text, len, "f", &b, 0, 1);
	secrets_scan_plain(vec, text, len, "f", &c, 0, 1);
	for (size_t k = 0; k < 3; k++) {
		buf_adds(bs[k], "");
		for (size_t i = 0; i < rs[k]->nsecrets; i++)
			buf_printf(bs[k], "%s:%u:%s\n", rs[k]->secrets[i].rule, rs[k]->secrets[i].line,
				   rs[k]->secrets[i].match);
	}
	if (strcmp(x.data, z.data) || strcmp(y.data, z.data))
		fail_msg("input (%zu bytes):\n%.*s\nfast:\n%s\nscalar:\n%s\nplain:\n%s", len,
			 len > 400 ? 400 : (int)len, text, x.data, y.data, z.data);
	size_t n = c.nsecrets;
	buf_free(&x), buf_free(&y), buf_free(&z);
	scan_result_free(&a), scan_result_free(&b), scan_result_free(&c);
	return n;
}

static int setup(void **state)
{
	(void)state;
	vec = secrets_new();
	sca = secrets_new();
	secrets_vector(sca, false);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	secrets_free(vec);
	secrets_free(sca);
	return 0;
}

/* Text full of keywords that match nothing: the fast pass has candidates everywhere. */
static const char noise[] =
	"The token is read; see http://host/x and -----BEGIN CERT ---- (private) eyJhbG sk_test_ "
	"AKIA12 password = 'short'\nSecret: none. ghp_x xoxb- npm_ glpat- AIza api-key:// aws_secret\n";

/* A planted secret, the rule that must find it (NULL: none). */
static const struct {
	const char *text, *rule;
} planted[] = {
	{ "AKIAZ7Q2W3E4R5T6Y7U8", "aws-access-key-id" },
	{ "aws_secret_access_key = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCY3XAMPLEKEY\"", "aws-secret-access-key" },
	{ "-----BEGIN RSA PRIVATE KEY-----", "private-key" },
	{ "-----BEGIN PRIVATE KEY-----", "private-key" },
	{ "ghp_0123456789abcdefghijABCDEFGHIJ012345", "github-token" },
	{ "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
	  "github-token" },
	{ "glpat-Ab3De6Gh9Jk2Mn5Pq8St", "gitlab-token" },
	{ "xoxb-1234567890-abcdefghij", "slack-token" },
	{ "https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX", "slack-webhook" },
	{ "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe-secret-key" },
	{ "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW", "google-api-key" },
	{ "npm_abcdefghijABCDEFGHIJ0123456789abcdef", "npm-token" },
	{ "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", "jwt" },
	{ "postgres://app:S3cr3tPw0rd@db.internal:5432/app", "password-in-url" },
	{ "git+ssh://deploy:Zq7Xw2Lp@git.example.org", "password-in-url" },
	{ "TOKEN=\"Zx8Qm2Lp9Vt4Rw7Ks1Nd\"", "generic-secret" },
	{ "api_key:\n\n  'Zx8Qm2Lp9Vt4Rw7Ks1Nd'", "generic-secret" }, /* across lines */
	{ "-----BEGIN rsa private key-----", NULL },
	{ "http://user:password@example.com", NULL },
};

/* Text of n bytes from the noise, then the planted secret at offset n, then `post` bytes more. */
static char *plant(size_t n, const char *secret, size_t post, size_t *len)
{
	size_t sl = strlen(secret), nl = sizeof(noise) - 1;
	char *t = xcalloc(1, n + sl + post + 3);
	for (size_t i = 0; i < n; i++)
		t[i] = noise[i % nl];
	if (n)
		t[n - 1] = '\n';
	memcpy(t + n, secret, sl);
	t[n + sl] = ' ';
	for (size_t i = 0; i < post; i++)
		t[n + sl + 1 + i] = noise[i % nl];
	*len = n + sl + 1 + post;
	return t;
}

static void check_planted(size_t from, size_t to, size_t step)
{
	for (size_t k = 0; k < sizeof(planted) / sizeof(*planted); k++)
		for (size_t n = from; n <= to; n += step)
			for (size_t post = 0; post < 40; post += 13) {
				size_t len;
				char *t = plant(n, planted[k].text, post, &len);
				same(t, len);
				char *got = scan(vec, t, len);
				bool found = planted[k].rule && strstr(got, planted[k].rule);
				if (planted[k].rule && !found)
					fail_msg("%s at offset %zu (+%zu): not found: %s", planted[k].text, n, post, got);
				free(got);
				free(t);
			}
}

/*
 * Planted secrets at every offset near the start, around the AVX2 pass's
 * 32-byte blocks and 2 KiB segments, around the walk's 64 KiB read chunks,
 * and at the very end of a file.
 */
static void test_planted(void **state)
{
	(void)state;
	check_planted(0, 100, 1);
	check_planted(2048 - 40, 2048 + 40, 1);
	check_planted(65536 - 40, 65536 + 8, 4);
}

/* More keywords of a rule than the fast search remembers: the plain search, same findings. */
static void test_many_keywords(void **state)
{
	static const char *const fill[] = { "token ", "a://b ", "PRIVATE KEY ", "AKIA " };
	(void)state;
	for (size_t f = 0; f < sizeof(fill) / sizeof(*fill); f++) {
		struct vg_buf b = { 0 };
		for (size_t i = 0; i < 70000; i++)
			buf_adds(&b, fill[f]);
		buf_adds(&b, "\nTOKEN=\"Zx8Qm2Lp9Vt4Rw7Ks1Nd\" postgres://app:S3cr3tPw0rd@db "
			     "-----BEGIN RSA PRIVATE KEY----- AKIAZ7Q2W3E4R5T6Y7U8\n");
		assert_int_equal(same(b.data, b.len), 4);
		buf_free(&b);
	}
}

/* Every gap the PEM rule allows between BEGIN and PRIVATE KEY, and URL schemes of every length. */
static void test_starts(void **state)
{
	char t[512];
	(void)state;
	for (int gap = 0; gap <= 104; gap++) {
		int n = snprintf(t, sizeof(t), "x ------BEGIN%*sPRIVATE KEY-----\n", gap, "");
		assert_int_equal(same(t, (size_t)n), gap <= 100);
		n = snprintf(t, sizeof(t), "-----BEGIN%.*sPRIVATE KEY BLOCK-----", gap,
			     "RSA-ENCRYPTED_0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZRSA-ENCRYPTED_0123456789 "
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZ-------------------------------------------");
		assert_int_equal(same(t, (size_t)n), gap <= 100);
	}
	static const char *const before[] = { "", " ", "x", "_", "+", ".", "-", "9", "(", "\n" };
	for (int len = 1; len <= 24; len++)
		for (size_t b = 0; b < sizeof(before) / sizeof(*before); b++) {
			int n = snprintf(t, sizeof(t), "%s%.*s://u:S3cr3tPw0rd@h", before[b], len,
					 "abcdefghijklmnopqrstuvwxyz");
			/* \b[a-zA-Z][a-zA-Z0-9+.-]{1,20}:// : a scheme of 2 to 21 after no word character */
			char c = before[b][0];
			bool want = c == 'x' ? len + 1 <= 21 :
				    c == '_' || c == '9' ? false :
							   len >= 2 && len <= 21;
			if (same(t, (size_t)n) != want)
				fail_msg("'%s': want %d", t, want);
		}
}

/* Random texts made of keywords, parts of secrets and separators. */
static void test_random(void **state)
{
	static const char *const parts[] = {
		"AKIA", "akia", "ASIA", "ghp_", "github_pat_", "glpat-", "xoxb-", "xoxp-", "://", "@", ":",
		"-----BEGIN", " PRIVATE KEY", "-----", " RSA", "token", "TOKEN", "secret", "password",
		"passwd", "api-key", "api_key", "apikey", "aws_secret_access_key", "awssecretkey", "=",
		"'", "\"", "\n", " ", "  ", "eyJ", ".", "hooks.slack.com/services/", "https", "sk_live_",
		"rk_live_", "AIza", "npm_", "/", "_", "-", "+", "$", "{", "0123456789", "Zx8Qm2Lp9Vt4",
		"ABCDEFGHIJKLMNOP", "abcdefghijklmnop", "Q7w", "\t", "#",
	};
	uint64_t seed = 0x9E3779B97F4A7C15ull;
	size_t total = 0;
	(void)state;
	for (int doc = 0; doc < 4000; doc++) {
		struct vg_buf b = { 0 };
		size_t nparts = 1 + (size_t)(doc % 300);
		for (size_t i = 0; i < nparts; i++) {
			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			buf_adds(&b, parts[seed % (sizeof(parts) / sizeof(*parts))]);
		}
		total += same(b.data, b.len);
		buf_free(&b);
	}
	assert_true(total > 100); /* the texts do hold secrets: the comparison is not of nothing */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_every_offset),
		cmocka_unit_test_setup_teardown(test_planted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_keywords, setup, teardown),
		cmocka_unit_test_setup_teardown(test_starts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
