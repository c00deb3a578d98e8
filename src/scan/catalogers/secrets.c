/* SPDX-License-Identifier: Apache-2.0 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scan/catalogers/secrets.h"

struct rule {
	const char *id, *title;
	enum vg_severity severity;
	const char *keywords[9]; /* lower case; NULL-terminated */
	const char *pattern;     /* the secret is group 1 when there is one */
	double min_entropy;      /* bits per character of the secret; 0 = no check */
	bool need_digit;         /* the secret must mix letters and digits (not a word) */
	bool no_placeholder;     /* "password", "pass", "xxx"... are examples, not secrets */
};

static const struct rule rules[] = {
	{ "aws-access-key-id", "AWS access key ID", SEV_CRITICAL,
	  { "akia", "asia", "agpa", "aida", "aroa", "aipa", "anpa", "anva" },
	  "\\b((?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16})\\b", 0 },
	{ "aws-secret-access-key", "AWS secret access key", SEV_CRITICAL,
	  { "aws_secret", "secret_access_key", "awssecret", "secretaccesskey" },
	  "(?i)aws_?secret_?(?:access_?)?key[\"']?\\s*[:=]\\s*[\"']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
	  3.0 },
	{ "private-key", "private key", SEV_HIGH, { "private key" },
	  "-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----", 0 },
	{ "github-token", "GitHub token", SEV_CRITICAL,
	  { "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_" },
	  "\\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})\\b", 0 },
	{ "gitlab-token", "GitLab personal access token", SEV_CRITICAL, { "glpat-" },
	  "\\b(glpat-[A-Za-z0-9_-]{20})\\b", 0 },
	{ "slack-token", "Slack token", SEV_HIGH, { "xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-" },
	  "\\b(xox[baprs]-[0-9A-Za-z-]{10,72})", 0 },
	{ "slack-webhook", "Slack webhook URL", SEV_MEDIUM, { "hooks.slack.com" },
	  "(https://hooks\\.slack\\.com/services/[A-Za-z0-9+/]{20,80})", 0 },
	{ "stripe-secret-key", "Stripe secret key", SEV_CRITICAL, { "sk_live_", "rk_live_" },
	  "\\b((?:sk|rk)_live_[0-9a-zA-Z]{24,99})\\b", 0 },
	{ "google-api-key", "Google API key", SEV_HIGH, { "aiza" }, "\\b(AIza[0-9A-Za-z_-]{35})\\b",
	  0 },
	{ "npm-token", "npm access token", SEV_CRITICAL, { "npm_" }, "\\b(npm_[A-Za-z0-9]{36})\\b",
	  0 },
	{ "jwt", "JSON web token", SEV_MEDIUM, { "eyj" },
	  "\\b(eyJ[A-Za-z0-9_-]{10,}\\.eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,})", 0 },
	{ "password-in-url", "password in URL", SEV_HIGH, { "://" },
	  "\\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^:/\\s\"'@<>]{1,64}:([^@/\\s\"'<>$%{}]{3,128})@[A-Za-z0-9.-]+",
	  0, false, true },
	{ "generic-secret", "high-entropy secret assignment", SEV_MEDIUM,
	  { "secret", "token", "password", "passwd", "api_key", "apikey", "api-key" },
	  "(?i)(?:secret|token|passwd|password|api[_-]?key)[A-Za-z0-9_.-]{0,20}[\"']?\\s*[:=]\\s*[\"']([A-Za-z0-9+/=_.-]{16,128})[\"']",
	  3.5, true, false },
};

#define NRULES (sizeof(rules) / sizeof(*rules))
/* How far after its match's start a rule's keyword can be (private-key: 10 + 100 + 1). */
#define KEYWORD_REACH 128
/*
 * Regexes run in windows around keywords: from KEYWORD_REACH before one to the
 * end of the line KEYWORD_WINDOW bytes after it (a match must end there), so a
 * document that says "token" twice costs two short matches, not two passes
 * over the rest of it. Up to KEYWORD_POS keywords a rule are remembered; past
 * that, the regex runs on from the last window to the file's end.
 */
#define KEYWORD_WINDOW 4096
#define KEYWORD_POS 64
#define MAX_PER_FILE 100

/*
 * The keyword prefilter, one pass over a file for all rules. Every keyword has
 * at least 3 bytes. The pass reads 4 bytes at each even offset, folds them to
 * lower case by setting bit 5 of each (a superset: '@' meets '`' too), and
 * looks up the 3-byte windows at that offset and the next in a hashed bitmap
 * of the keywords' first three bytes (8 KiB: stays in L1). A hit is confirmed
 * where it is: per case-folded leading pair, the keywords to compare there.
 * One lookup every byte with a hit on 1 in 10 (a byte-pair test) cost twice
 * as much in mispredicted branches; searching each keyword on its own
 * (memmem) read a file some 40 times.
 */
#define MAX_KEYWORDS 64
#define MAX_PAIRS 64
struct keyword {
	const char *s; /* lower case */
	size_t n;
	unsigned rule;
};

struct secrets {
	pcre2_code *re[NRULES];
	pcre2_match_data *md;
	uint32_t pairs[65536 / 32];    /* folded pairs keywords start with */
	uint64_t triples[65536 / 64];  /* tri_hash of each keyword's first 3 bytes, bit 5 set */
	unsigned char fold[256];
	uint32_t pos[NRULES][KEYWORD_POS]; /* where each rule's keywords start (files <= 4 GiB) */
	unsigned npos[NRULES];		    /* KEYWORD_POS + 1: more than remembered */
	struct keyword kw[MAX_KEYWORDS];
	unsigned char slot[65536];	  /* pair -> 1 + its list in bypair (0: none) */
	uint32_t third[MAX_PAIRS][8];	  /* per pair, the (folded) bytes that follow it in a keyword */
	unsigned char bypair[MAX_PAIRS][8]; /* indexes into kw + 1; 0 ends the list */
	size_t npairs;
};

static unsigned char fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* 4 bytes, first byte low, each with bit 5 set (A-Z folded to a-z). */
static inline unsigned tri_fold(const unsigned char *p)
{
	return (p[0] | (unsigned)p[1] << 8 | (unsigned)p[2] << 16 | (unsigned)p[3] << 24) | 0x20202020u;
}

/* A 3-byte window (24 bits) to a bit of the 65536-bit table. */
static inline unsigned tri_hash(unsigned t)
{
	return (t * 0x9E3779B1u) >> 16;
}

struct secrets *secrets_new(void)
{
	struct secrets *s = xcalloc(1, sizeof(*s));

	for (size_t i = 0; i < NRULES; i++) {
		int ec;
		PCRE2_SIZE eo;
		s->re[i] = pcre2_compile((PCRE2_SPTR)rules[i].pattern, PCRE2_ZERO_TERMINATED, 0, &ec,
					 &eo, NULL);
		if (!s->re[i]) {
			fprintf(stderr, "vigil: built-in secret rule %s does not compile at %zu\n",
				rules[i].id, (size_t)eo);
			abort();
		}
		pcre2_jit_compile(s->re[i], PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
	}
	s->md = pcre2_match_data_create(4, NULL);
	for (int c = 0; c < 256; c++)
		s->fold[c] = fold((unsigned char)c);
	size_t nk = 0;
	for (size_t i = 0; i < NRULES; i++)
		for (size_t k = 0; k < 9 && rules[i].keywords[k]; k++) {
			const char *w = rules[i].keywords[k];
			unsigned pair = (unsigned)(unsigned char)w[0] << 8 | (unsigned char)w[1];
			if (strlen(w) < 2 || nk == MAX_KEYWORDS ||
			    (!s->slot[pair] && s->npairs == MAX_PAIRS))
				abort(); /* a built-in table too big for the prefilter: a bug */
			if (!s->slot[pair])
				s->slot[pair] = (unsigned char)++s->npairs;
			unsigned char *list = s->bypair[s->slot[pair] - 1];
			size_t f = 0;
			while (f < 8 && list[f])
				f++;
			if (f == 8)
				abort();
			s->kw[nk] = (struct keyword){ w, strlen(w), (unsigned)i };
			list[f] = (unsigned char)++nk;
			unsigned char c3 = (unsigned char)w[2]; /* w[2] is 0 for a 2-byte keyword */
			s->third[s->slot[pair] - 1][c3 >> 5] |= 1u << (c3 & 31);
			s->pairs[pair >> 5] |= 1u << (pair & 31);
			if (strlen(w) < 3)
				abort(); /* the prefilter looks at 3 bytes */
			unsigned t = tri_fold((const unsigned char *)w) & 0xffffff;
			s->triples[tri_hash(t) >> 6] |= 1ull << (tri_hash(t) & 63);
		}
	return s;
}

/*
 * Which rules have a keyword in data, case-insensitively: a bit per rule, and
 * where their keywords start (s->pos, s->npos).
 */
/*
 * Does a keyword start at offset i? Records it for its rule (s->pos, s->npos)
 * and returns the rules hit there; *full gains rules with more keywords than
 * remembered.
 */
static uint32_t keyword_at(struct secrets *s, const unsigned char *d, size_t len, size_t i, uint32_t *full)
{
	unsigned pair = (unsigned)s->fold[d[i]] << 8 | s->fold[d[i + 1]];
	uint32_t hits = 0;
	if (!(s->pairs[pair >> 5] & (1u << (pair & 31))))
		return 0;
	/* common pairs ("an", "to", "se") are mostly turned away by the byte after them */
	unsigned char c3 = i + 2 < len ? s->fold[d[i + 2]] : 0;
	if (c3 && !(s->third[s->slot[pair] - 1][c3 >> 5] & (1u << (c3 & 31))))
		return 0;
	const unsigned char *list = s->bypair[s->slot[pair] - 1];
	for (size_t f = 0; f < 8 && list[f]; f++) {
		const struct keyword *k = &s->kw[list[f] - 1];
		size_t j = 2;
		unsigned *np = &s->npos[k->rule];
		if (*full & (1u << k->rule) || k->n > len - i || (*np && s->pos[k->rule][*np - 1] == i))
			continue;
		while (j < k->n && s->fold[d[i + j]] == (unsigned char)k->s[j])
			j++;
		if (j < k->n)
			continue;
		hits |= 1u << k->rule;
		if (*np == KEYWORD_POS) {
			*np = KEYWORD_POS + 1;
			*full |= 1u << k->rule;
		} else {
			s->pos[k->rule][(*np)++] = (uint32_t)i;
		}
	}
	return hits;
}

/*
 * Which rules have a keyword in data, case-insensitively: a bit per rule, and
 * where their keywords start (s->pos, s->npos), in increasing order.
 */
static uint32_t keyword_hits(struct secrets *s, const unsigned char *d, size_t len)
{
	const uint32_t all = (1u << NRULES) - 1;
	uint32_t hits = 0, full = 0; /* full: rules with more keywords than remembered */
	size_t i = 0;

	memset(s->npos, 0, sizeof(s->npos));
	for (; i + 4 <= len && full != all; i += 2) {
		unsigned v = tri_fold(d + i), h0 = tri_hash(v & 0xffffff), h1 = tri_hash(v >> 8);
		if (s->triples[h0 >> 6] & (1ull << (h0 & 63)))
			hits |= keyword_at(s, d, len, i, &full);
		if (s->triples[h1 >> 6] & (1ull << (h1 & 63)))
			hits |= keyword_at(s, d, len, i + 1, &full);
	}
	for (; i + 3 <= len && full != all; i++) /* the last starts with room for 3 bytes */
		hits |= keyword_at(s, d, len, i, &full);
	return hits;
}

void secrets_free(struct secrets *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < NRULES; i++)
		pcre2_code_free(s->re[i]);
	pcre2_match_data_free(s->md);
	free(s);
}

/* Example credentials of documentation and tests: user:password@, user:pass@, xxx... */
static bool placeholder(const char *p, size_t n)
{
	static const char *const words[] = { "password", "passwd", "pass", "pwd", "secret",
					     "changeme", "example", "redacted", "your_password",
					     "yourpassword", "mypassword", "foobar", "test" };
	bool same = true;

	for (size_t i = 1; i < n; i++)
		same &= p[i] == p[0];
	if (same)
		return true; /* xxx, ***, 000 */
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (strlen(words[i]) == n && !strncasecmp(words[i], p, n))
			return true;
	return false;
}

static bool letters_and_digits(const char *p, size_t n)
{
	bool alpha = false, digit = false;
	for (size_t i = 0; i < n; i++) {
		alpha |= isalpha((unsigned char)p[i]) != 0;
		digit |= isdigit((unsigned char)p[i]) != 0;
	}
	return alpha && digit;
}

static double entropy(const char *p, size_t n)
{
	unsigned cnt[256] = { 0 };
	double h = 0;

	for (size_t i = 0; i < n; i++)
		cnt[(unsigned char)p[i]]++;
	for (int c = 0; c < 256; c++)
		if (cnt[c]) {
			double f = (double)cnt[c] / (double)n;
			h -= f * log2(f);
		}
	return h;
}

/*
 * "AKIA****************": the first 4 characters of a secret longer than 12,
 * then 16 stars whatever its length (the length is not given away either).
 */
static char *redact(const char *p, size_t n)
{
	struct vg_buf b = { 0 };

	buf_add(&b, p, n > 12 ? 4 : 0);
	buf_adds(&b, "****************");
	return b.data;
}

static void add_finding(struct scan_result *r, const struct rule *ru, const char *path,
			unsigned line, char *match, size_t blob, uint64_t seq)
{
	if (r->nsecrets == r->cap_secrets) {
		r->cap_secrets = r->cap_secrets ? r->cap_secrets * 2 : 16;
		r->secrets = xrealloc(r->secrets, r->cap_secrets * sizeof(*r->secrets));
	}
	struct scan_secret *s = &r->secrets[r->nsecrets++];
	memset(s, 0, sizeof(*s));
	s->rule = xstrdup(ru->id);
	s->title = xstrdup(ru->title);
	s->severity = ru->severity;
	s->path = xstrdup(path);
	s->match = match;
	s->line = line;
	s->layer = (unsigned)blob;
	s->seq = seq;
}

void secrets_scan(struct secrets *s, const char *data, size_t len, const char *path,
		  struct scan_result *r, size_t blob, uint64_t seq)
{
	size_t head = len < 8192 ? len : 8192;
	int found = 0;

	if (!len || memchr(data, 0, head))
		return;
	if (len > UINT32_MAX)
		return; /* positions are 32-bit; files here are at most max_secret_bytes */
	uint32_t hits = keyword_hits(s, (const unsigned char *)data, len);
	for (size_t i = 0; i < NRULES && found < MAX_PER_FILE; i++) {
		const struct rule *ru = &rules[i];
		if (!(hits & (1u << i)))
			continue;
		/*
		 * A match holds one of its rule's keywords, at most KEYWORD_REACH bytes
		 * after the match's start (a private key's BEGIN line): a match that
		 * starts at or after off holds a keyword at or after off.
		 */
		bool over = s->npos[i] > KEYWORD_POS;
		size_t np = over ? KEYWORD_POS : s->npos[i], w = 0;
		PCRE2_SIZE off = s->pos[i][0] > KEYWORD_REACH ? s->pos[i][0] - KEYWORD_REACH : 0;
		unsigned line = 1;
		size_t counted = 0;
		while (off < len && found < MAX_PER_FILE) {
			size_t start = off, end = len;
			while (w < np && s->pos[i][w] < off)
				w++;
			if (w < np) {
				size_t q = s->pos[i][w];
				start = q > off + KEYWORD_REACH ? q - KEYWORD_REACH : off;
				end = q + KEYWORD_WINDOW;
				if (end >= len) {
					end = len;
				} else {
					const char *nl = memchr(data + end, '\n', len - end);
					end = nl ? (size_t)(nl - data) : len;
				}
			} else if (!over) {
				break; /* no keyword left: no match left */
			}
			int rc = pcre2_match(s->re[i], (PCRE2_SPTR)data, end, start, 0, s->md, NULL);
			if (rc < 0) {
				if (end == len)
					break; /* no match, or a match limit reached */
				off = end; /* nothing in this window: on to the next keyword */
				continue;
			}
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
			size_t a = ov[0], b = ov[1];
			if (rc >= 2 && ov[2] != PCRE2_UNSET) {
				a = ov[2];
				b = ov[3];
			}
			off = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
			if (ru->min_entropy > 0 && entropy(data + a, b - a) < ru->min_entropy)
				continue;
			if (ru->need_digit && !letters_and_digits(data + a, b - a))
				continue;
			if (ru->no_placeholder && placeholder(data + a, b - a))
				continue;
			for (; counted < a; counted++)
				if (data[counted] == '\n')
					line++;
			char *m = !strcmp(ru->id, "private-key") ?
					  xstrndup(data + ov[0], ov[1] - ov[0]) :
					  redact(data + a, b - a);
			add_finding(r, ru, path, line, m, blob, seq);
			found++;
		}
	}
}
