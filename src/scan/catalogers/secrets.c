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
	enum { START_AT, START_PEM, START_SCHEME } start; /* where a match starts (below) */
	unsigned before; /* START_AT: a match starts this many bytes before a keyword */
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
	  "-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----", 0, .start = START_PEM },
	{ "github-token", "GitHub token", SEV_CRITICAL,
	  { "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_" },
	  "\\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})\\b", 0 },
	{ "gitlab-token", "GitLab personal access token", SEV_CRITICAL, { "glpat-" },
	  "\\b(glpat-[A-Za-z0-9_-]{20})\\b", 0 },
	{ "slack-token", "Slack token", SEV_HIGH, { "xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-" },
	  "\\b(xox[baprs]-[0-9A-Za-z-]{10,72})", 0 },
	{ "slack-webhook", "Slack webhook URL", SEV_MEDIUM, { "hooks.slack.com" },
	  "(https://hooks\\.slack\\.com/services/[A-Za-z0-9+/]{20,80})", 0, .before = 8 },
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
	  0, false, true, START_SCHEME },
	{ "generic-secret", "high-entropy secret assignment", SEV_MEDIUM,
	  { "secret", "token", "password", "passwd", "api_key", "apikey", "api-key" },
	  "(?i)(?:secret|token|passwd|password|api[_-]?key)[A-Za-z0-9_.-]{0,20}[\"']?\\s*[:=]\\s*[\"']([A-Za-z0-9+/=_.-]{16,128})[\"']",
	  3.5, true, false },
};

#define NRULES (sizeof(rules) / sizeof(*rules))
/*
 * Where a rule's pattern runs. Every match holds one of its rule's keywords,
 * and that keyword says where the match can start (struct rule's start): at
 * the keyword or a fixed distance before it (START_AT: the keyword is the
 * pattern's first literal), at a "-----BEGIN" 10 to 110 bytes before "PRIVATE
 * KEY" (START_PEM), or at the start of the URL scheme that ends at "://"
 * (START_SCHEME: 2 to 21 letters, digits, '+', '.' or '-', the first a letter
 * after no word character, and an '@' at most 194 bytes after the "://").
 * The pattern, compiled anchored too, is tried on the whole file only at those
 * starts, in increasing order from where the last match ended: the first that
 * matches is the match an unanchored search from there finds. So the findings
 * are those of each pattern searched over the whole file (secrets_scan_plain,
 * which the tests and fuzz_secrets hold equal), for the cost of a few anchored
 * attempts per keyword. Past MAX_POS keywords of one rule in a file, that
 * rule's plain search runs instead.
 */
#define MAX_POS (1u << 16)
#define MAX_STARTS 104 /* START_PEM: at most 101 starts a keyword */
#define MAX_PER_FILE 100

/*
 * The keyword pass, one pass over a file for all rules: where each keyword
 * starts, case-insensitively. Every keyword has at least 3 bytes. With AVX2
 * (checked at run time), 32 offsets at a time go through a "Teddy" filter
 * (Hyperscan's): the keywords' first four bytes, folded by setting bit 5, are
 * spread over 8 buckets, and per position of the four a table maps each
 * byte's low and high nibble to the buckets that allow it; an offset whose
 * four bytes leave a bucket standing is a candidate (1 offset in 470 of
 * /usr/share's text; 1 in 100 with three bytes). Candidates are gathered a
 * 2 KiB segment at a time, so that the loop makes no calls and keeps its
 * tables in registers. Without AVX2, and for the last bytes, a scalar pass
 * reads 4 bytes at each even offset, folds them the same way and looks up the
 * 3-byte windows at that offset and the next in a hashed bitmap of the
 * keywords' first three bytes (8 KiB: stays in L1).
 * A candidate is confirmed where it is: per case-folded leading pair, the
 * keywords to compare there. (One lookup every byte with a hit on 1 in 10, a
 * byte-pair test, cost twice as much in mispredicted branches; searching each
 * keyword on its own, memmem, read a file some 40 times.)
 */
#define MAX_KEYWORDS 64
#define MAX_PAIRS 64
struct keyword {
	const char *s; /* lower case */
	size_t n;
	unsigned rule;
};

struct secrets {
	pcre2_code *re[NRULES]; /* as written: the plain search */
	pcre2_code *at[NRULES]; /* anchored: tried at a match's possible starts */
	pcre2_match_data *md;
	uint32_t pairs[65536 / 32];    /* folded pairs keywords start with */
	uint64_t triples[65536 / 64];  /* tri_hash of each keyword's first 3 bytes, bit 5 set */
	unsigned char fold[256];
	uint32_t *pos[NRULES];	       /* where each rule's keywords start (files <= 4 GiB) */
	size_t npos[NRULES], cap[NRULES]; /* npos MAX_POS + 1: more than remembered */
	struct keyword kw[MAX_KEYWORDS];
	unsigned char slot[65536];	  /* pair -> 1 + its list in bypair (0: none) */
	uint32_t third[MAX_PAIRS][8];	  /* per pair, the (folded) bytes that follow it in a keyword */
	unsigned char bypair[MAX_PAIRS][8]; /* indexes into kw + 1; 0 ends the list */
	size_t npairs;
	bool vector;		       /* the AVX2 pass */
	uint8_t tlo[4][16], thi[4][16]; /* Teddy: per position, low/high nibble -> buckets */
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

/* How many byte values a bucket lets through at its four positions (lo/hi: nibble sets). */
static double bucket_cost(const uint16_t lo[4], const uint16_t hi[4])
{
	double c = 1;
	for (int p = 0; p < 4; p++)
		c *= __builtin_popcount(lo[p]) * __builtin_popcount(hi[p]);
	return c;
}

/*
 * The Teddy tables: each keyword's first four bytes (folded; any byte past the
 * end of a 3-byte keyword) go to the bucket they widen least (an empty one
 * first), so that few other byte strings pass.
 */
static void teddy_build(struct secrets *s, size_t nk)
{
	uint16_t lo[8][4] = { { 0 } }, hi[8][4] = { { 0 } };

	for (size_t k = 0; k < nk; k++) {
		uint16_t bl[4], bh[4]; /* this keyword's nibbles */
		for (int p = 0; p < 4; p++) { /* keywords have at least 3 bytes and a NUL */
			unsigned char c = (unsigned char)(s->kw[k].s[p] | 0x20);
			bool any = (size_t)p >= s->kw[k].n;
			bl[p] = any ? 0xffff : (uint16_t)(1u << (c & 15));
			bh[p] = any ? 0xffff : (uint16_t)(1u << (c >> 4));
		}
		int best = 0;
		double best_cost = 0;
		for (int t = 0; t < 8; t++) {
			uint16_t l[4], h[4];
			for (int p = 0; p < 4; p++) {
				l[p] = lo[t][p] | bl[p];
				h[p] = hi[t][p] | bh[p];
			}
			double c = bucket_cost(l, h) - (lo[t][0] ? bucket_cost(lo[t], hi[t]) : 0);
			if (t == 0 || c < best_cost)
				best = t, best_cost = c;
		}
		for (int p = 0; p < 4; p++) {
			lo[best][p] |= bl[p];
			hi[best][p] |= bh[p];
		}
	}
	for (int t = 0; t < 8; t++)
		for (int p = 0; p < 4; p++)
			for (int n = 0; n < 16; n++) {
				if (lo[t][p] & (1u << n))
					s->tlo[p][n] |= (uint8_t)(1u << t);
				if (hi[t][p] & (1u << n))
					s->thi[p][n] |= (uint8_t)(1u << t);
			}
}

static bool have_avx2(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	return __builtin_cpu_supports("avx2");
#else
	return false;
#endif
}

static pcre2_code *compile(size_t i, uint32_t options)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)rules[i].pattern, PCRE2_ZERO_TERMINATED, options,
				       &ec, &eo, NULL);
	if (!re) {
		fprintf(stderr, "vigil: built-in secret rule %s does not compile at %zu\n", rules[i].id,
			(size_t)eo);
		abort();
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
	return re;
}

struct secrets *secrets_new(void)
{
	struct secrets *s = xcalloc(1, sizeof(*s));

	for (size_t i = 0; i < NRULES; i++) {
		s->re[i] = compile(i, 0);
		s->at[i] = compile(i, PCRE2_ANCHORED);
	}
	s->md = pcre2_match_data_create(4, NULL);
	for (int c = 0; c < 256; c++)
		s->fold[c] = fold((unsigned char)c);
	size_t nk = 0;
	for (size_t i = 0; i < NRULES; i++)
		for (size_t k = 0; k < 9 && rules[i].keywords[k]; k++) {
			const char *w = rules[i].keywords[k];
			unsigned pair = (unsigned)(unsigned char)w[0] << 8 | (unsigned char)w[1];
			if (strlen(w) < 3 || nk == MAX_KEYWORDS ||
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
			unsigned char c3 = (unsigned char)w[2];
			s->third[s->slot[pair] - 1][c3 >> 5] |= 1u << (c3 & 31);
			s->pairs[pair >> 5] |= 1u << (pair & 31);
			unsigned t = tri_fold((const unsigned char *)w) & 0xffffff;
			s->triples[tri_hash(t) >> 6] |= 1ull << (tri_hash(t) & 63);
		}
	teddy_build(s, nk);
	s->vector = have_avx2();
	return s;
}

bool secrets_vector(struct secrets *s, bool on)
{
	return s->vector = on && have_avx2();
}

/* Does a keyword start at offset i? Records it for its rule (s->pos, s->npos). */
static void keyword_at(struct secrets *s, const unsigned char *d, size_t len, size_t i)
{
	unsigned pair = (unsigned)s->fold[d[i]] << 8 | s->fold[d[i + 1]];
	if (!(s->pairs[pair >> 5] & (1u << (pair & 31))))
		return;
	/* common pairs ("an", "to", "se") are mostly turned away by the byte after them */
	unsigned char c3 = i + 2 < len ? s->fold[d[i + 2]] : 0;
	if (c3 && !(s->third[s->slot[pair] - 1][c3 >> 5] & (1u << (c3 & 31))))
		return;
	const unsigned char *list = s->bypair[s->slot[pair] - 1];
	for (size_t f = 0; f < 8 && list[f]; f++) {
		const struct keyword *k = &s->kw[list[f] - 1];
		size_t j = 2, *np = &s->npos[k->rule];
		if (*np > MAX_POS || k->n > len - i || (*np && s->pos[k->rule][*np - 1] == i))
			continue;
		while (j < k->n && s->fold[d[i + j]] == (unsigned char)k->s[j])
			j++;
		if (j < k->n)
			continue;
		if (*np == MAX_POS) {
			*np = MAX_POS + 1; /* the rule's plain search will run */
			continue;
		}
		if (*np == s->cap[k->rule]) {
			s->cap[k->rule] = s->cap[k->rule] ? 2 * s->cap[k->rule] : 64;
			s->pos[k->rule] = xrealloc(s->pos[k->rule], s->cap[k->rule] * sizeof(uint32_t));
		}
		s->pos[k->rule][(*np)++] = (uint32_t)i;
	}
}

/* The scalar pass from offset i to the end. */
static void keyword_pass_scalar(struct secrets *s, const unsigned char *d, size_t len, size_t i)
{
	for (; i + 4 <= len; i += 2) {
		unsigned v = tri_fold(d + i), h0 = tri_hash(v & 0xffffff), h1 = tri_hash(v >> 8);
		if (s->triples[h0 >> 6] & (1ull << (h0 & 63)))
			keyword_at(s, d, len, i);
		if (s->triples[h1 >> 6] & (1ull << (h1 & 63)))
			keyword_at(s, d, len, i + 1);
	}
	for (; i + 3 <= len; i++) /* the last starts with room for 3 bytes */
		keyword_at(s, d, len, i);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* The Teddy pass over whole 32-byte blocks; returns where the scalar pass takes over. */
#define TEDDY(p, x)                                                                               \
	_mm256_and_si256(_mm256_shuffle_epi8(lo##p, _mm256_and_si256(x, nib)),                     \
			 _mm256_shuffle_epi8(hi##p, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib)))
#define LOAD(o) _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(d + i + (o))), up)
#define TABLE(t, p) _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)s->t[p]))
__attribute__((target("avx2"))) static size_t keyword_pass_avx2(struct secrets *s,
								  const unsigned char *d, size_t len)
{
	const __m256i lo0 = TABLE(tlo, 0), lo1 = TABLE(tlo, 1), lo2 = TABLE(tlo, 2), lo3 = TABLE(tlo, 3);
	const __m256i hi0 = TABLE(thi, 0), hi1 = TABLE(thi, 1), hi2 = TABLE(thi, 2), hi3 = TABLE(thi, 3);
	const __m256i nib = _mm256_set1_epi8(0x0f), up = _mm256_set1_epi8(0x20);
	const __m256i zero = _mm256_setzero_si256();
	size_t i = 0;

	uint32_t cand[64]; /* per block of a segment, its candidates */

	while (i + 35 <= len) { /* segments of up to 64 blocks; no calls in the loop */
		size_t seg = i, nb = 0;
		uint32_t anyc = 0;
		for (; nb < 64 && i + 35 <= len; i += 32, nb++) { /* reads d[i] .. d[i + 34] */
			__m256i x0 = LOAD(0), x1 = LOAD(1), x2 = LOAD(2), x3 = LOAD(3);
			__m256i m = _mm256_and_si256(_mm256_and_si256(TEDDY(0, x0), TEDDY(1, x1)),
						     _mm256_and_si256(TEDDY(2, x2), TEDDY(3, x3)));
			cand[nb] = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(m, zero));
			anyc |= cand[nb];
		}
		for (size_t b = 0; anyc && b < nb; b++)
			for (uint32_t bits = cand[b]; bits; bits &= bits - 1)
				keyword_at(s, d, len, seg + 32 * b + (size_t)__builtin_ctz(bits));
	}
	return i;
}
#undef TEDDY
#undef LOAD
#undef TABLE
#endif

/* Where each rule's keywords start, in increasing order (s->pos, s->npos). */
static void keyword_pass(struct secrets *s, const unsigned char *d, size_t len)
{
	size_t i = 0;

	memset(s->npos, 0, sizeof(s->npos));
#if defined(__x86_64__) && defined(__GNUC__)
	if (s->vector)
		i = keyword_pass_avx2(s, d, len);
#endif
	keyword_pass_scalar(s, d, len, i);
}

void secrets_free(struct secrets *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < NRULES; i++) {
		pcre2_code_free(s->re[i]);
		pcre2_code_free(s->at[i]);
		free(s->pos[i]);
	}
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


/* One file being searched. */
struct search {
	const char *data;
	size_t len;
	const char *path;
	struct scan_result *r;
	size_t blob;
	uint64_t seq;
	int found;
	unsigned line;	/* the line of byte `counted` */
	size_t counted;
};

/*
 * The match of rule i in s->md (rc from pcre2_match): a finding unless its
 * checks turn it down. Returns where the rule's next match may start.
 */
static size_t take(struct secrets *s, struct search *f, size_t i, int rc)
{
	const struct rule *ru = &rules[i];
	const char *data = f->data;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
	size_t a = ov[0], b = ov[1], next = ov[1] > ov[0] ? ov[1] : ov[0] + 1;

	if (rc >= 2 && ov[2] != PCRE2_UNSET) {
		a = ov[2];
		b = ov[3];
	}
	if (ru->min_entropy > 0 && entropy(data + a, b - a) < ru->min_entropy)
		return next;
	if (ru->need_digit && !letters_and_digits(data + a, b - a))
		return next;
	if (ru->no_placeholder && placeholder(data + a, b - a))
		return next;
	for (; f->counted < a; f->counted++)
		if (data[f->counted] == '\n')
			f->line++;
	char *m = ru->start == START_PEM ? xstrndup(data + ov[0], ov[1] - ov[0]) : redact(data + a, b - a);
	add_finding(f->r, ru, f->path, f->line, m, f->blob, f->seq);
	f->found++;
	return next;
}

/* Rule i's pattern searched over the whole file, match after match. */
static void rule_plain(struct secrets *s, struct search *f, size_t i)
{
	size_t off = 0;

	f->line = 1;
	f->counted = 0;
	while (off < f->len && f->found < MAX_PER_FILE) {
		int rc = pcre2_match(s->re[i], (PCRE2_SPTR)f->data, f->len, off, 0, s->md, NULL);
		if (rc < 0)
			break; /* no match, or a match limit reached */
		off = take(s, f, i, rc);
	}
}

/* ASCII only, whatever the locale: PCRE2's default character tables are the C locale's. */
static bool letter(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool word_char(unsigned char c) /* \w */
{
	return letter(c) || digit(c) || c == '_';
}

/* Where a match of rule ru can start for its keyword at k, in increasing order; how many. */
static size_t starts(const struct rule *ru, const unsigned char *d, size_t len, size_t k,
		     size_t c[MAX_STARTS])
{
	size_t n = 0;

	switch (ru->start) {
	case START_AT:
		if (k >= ru->before)
			c[n++] = k - ru->before;
		break;
	case START_PEM: /* "-----BEGIN" + [ A-Z0-9_-]{0,100} + "PRIVATE KEY" */
		for (size_t j = k >= 110 ? k - 110 : 0; j + 10 <= k; j++)
			if (d[j] == '-' && !memcmp(d + j, "-----BEGIN", 10))
				c[n++] = j;
		break;
	case START_SCHEME: { /* [a-zA-Z][a-zA-Z0-9+.-]{1,20}:// then at most 194 bytes to '@' */
		size_t after = len - (k + 3) < 194 ? len - (k + 3) : 194;
		if (!memchr(d + k + 3, '@', after))
			break;
		size_t j = k;
		while (j > 0 && k - j < 21 &&
		       (letter(d[j - 1]) || digit(d[j - 1]) || d[j - 1] == '+' || d[j - 1] == '.' ||
			d[j - 1] == '-'))
			j--;
		for (; j + 2 <= k; j++)
			if (letter(d[j]) && (j == 0 || !word_char(d[j - 1])))
				c[n++] = j;
		break;
	}
	}
	return n;
}

/* Rule i's pattern tried at the starts its keywords allow (see MAX_POS above). */
static void rule_fast(struct secrets *s, struct search *f, size_t i)
{
	const unsigned char *d = (const unsigned char *)f->data;
	size_t off = 0, untried = 0, c[MAX_STARTS];

	f->line = 1;
	f->counted = 0;
	for (size_t w = 0; w < s->npos[i] && f->found < MAX_PER_FILE; w++) {
		size_t n = starts(&rules[i], d, f->len, s->pos[i][w], c);
		for (size_t j = 0; j < n && f->found < MAX_PER_FILE; j++) {
			if (c[j] < off || c[j] < untried)
				continue;
			untried = c[j] + 1;
			int rc = pcre2_match(s->at[i], (PCRE2_SPTR)f->data, f->len, c[j], 0, s->md, NULL);
			if (rc >= 0)
				off = take(s, f, i, rc);
		}
	}
}

static bool searched(const char *data, size_t len)
{
	size_t head = len < 8192 ? len : 8192;
	/* not binary; positions are 32-bit (files here are at most max_secret_bytes) */
	return len && len <= UINT32_MAX && !memchr(data, 0, head);
}

void secrets_scan(struct secrets *s, const char *data, size_t len, const char *path,
		  struct scan_result *r, size_t blob, uint64_t seq)
{
	struct search f = { data, len, path, r, blob, seq, 0, 1, 0 };

	if (!searched(data, len))
		return;
	keyword_pass(s, (const unsigned char *)data, len);
	for (size_t i = 0; i < NRULES && f.found < MAX_PER_FILE; i++) {
		if (s->npos[i] > MAX_POS)
			rule_plain(s, &f, i);
		else if (s->npos[i])
			rule_fast(s, &f, i);
	}
}

void secrets_scan_plain(struct secrets *s, const char *data, size_t len, const char *path,
			struct scan_result *r, size_t blob, uint64_t seq)
{
	struct search f = { data, len, path, r, blob, seq, 0, 1, 0 };

	if (!searched(data, len))
		return;
	for (size_t i = 0; i < NRULES && f.found < MAX_PER_FILE; i++)
		rule_plain(s, &f, i);
}
