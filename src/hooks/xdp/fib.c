/* src/hooks/xdp/fib.c - a static route table and bpf_fib_lookup() over it.
 *
 * The table is a flat array of routes (tables here are small: a linear
 * longest-prefix scan is fast enough and obviously right). Text format, one
 * route per line, '#' starts a comment:
 *   PREFIX dev IFINDEX [via GATEWAY] [smac MAC] [dmac MAC] [mtu N] [metric N]
 * PREFIX is A.B.C.D[/LEN] or an IPv6 address[/LEN] (no LEN: a host route);
 * bits beyond LEN must be zero. "default" is 0.0.0.0/0 and ::/0, or only
 * the family of GATEWAY when there is one (an IPv4 route may have an IPv6
 * gateway, as in RFC 5549, not the reverse). A prefix may appear once.
 * The MTU defaults to 1500, the metric (rt_metric: the kernel's route
 * priority, 1024 for an IPv6 route added without one) to 0. dmac is the neighbour's address (of the gateway,
 * or of the destination itself on a route without one); without it the
 * neighbour is unknown.
 *
 * bpf_fib_lookup(ctx, params, plen, flags) follows the kernel's XDP variant
 * (bpf_ipv4/ipv6_fib_lookup with the MTU checked): plen < 64 or flags
 * outside DIRECT|OUTPUT|SKIP_NEIGH|TBID|SRC|MARK is -EINVAL, a family other
 * than AF_INET/AF_INET6 -EAFNOSUPPORT. IPv6 multicast, link-local and
 * loopback addresses (destination or source) are NOT_FWDED, as is a
 * destination no route matches, or any lookup in a run without a table (tc
 * runs, comb_prog_test_run). tot_len > MTU gives FRAG_NEEDED with
 * mtu_result = MTU. Otherwise ifindex, rt_metric (the route's metric) and, for a route via a
 * gateway, the destination address (and family) become the gateway's;
 * without a known neighbour the answer is NO_NEIGH (unless SKIP_NEIGH); on
 * success smac/dmac are filled, the VLAN fields zeroed, mtu_result = MTU.
 * comb has no interface addresses, so BPF_FIB_LOOKUP_SRC leaves the source
 * as it was; every table id is the one table.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks/xdp/internal.h"

#define FIB_DEFAULT_MTU 1500
#define FIB_FLAGS_KNOWN 0x3fu /* DIRECT OUTPUT SKIP_NEIGH TBID SRC MARK (Linux 6.18) */
#define FIB_LINE_MAX 1024
#define FAMILY_INET 2
#define FAMILY_INET6 10

struct fib_route {
	uint8_t family;      /* FAMILY_INET or FAMILY_INET6 */
	uint8_t prefix_len;
	uint8_t prefix[16];
	uint8_t gw_family;   /* 0: no gateway */
	uint8_t gw[16];
	uint32_t ifindex;
	uint32_t mtu;
	uint32_t metric;
	bool has_smac, has_dmac;
	uint8_t smac[6], dmac[6];
};

struct comb_fib {
	struct fib_route *routes;
	size_t count, cap;
};

/* ---- parsing ------------------------------------------------------------ */

struct fib_parser {
	unsigned line;
	char *err;
	size_t err_len;
};

__attribute__((format(printf, 2, 3)))
static int parse_fail(struct fib_parser *p, const char *fmt, ...)
{
	if (p->err && p->err_len) {
		int n = snprintf(p->err, p->err_len, "fib: line %u: ", p->line);
		va_list ap;
		va_start(ap, fmt);
		if (n >= 0 && (size_t)n < p->err_len)
			vsnprintf(p->err + n, p->err_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* An address of either family into out; returns its family or 0. */
static uint8_t parse_address(const char *text, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, text, out) == 1)
		return FAMILY_INET;
	if (inet_pton(AF_INET6, text, out) == 1)
		return FAMILY_INET6;
	return 0;
}

static int parse_uint(const char *text, unsigned long min, unsigned long max, uint32_t *out)
{
	if (!isdigit((unsigned char)text[0]))
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_mac(const char *text, uint8_t mac[6])
{
	unsigned b[6];
	char tail;
	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static bool host_bits_zero(const uint8_t *addr, unsigned len, unsigned bits)
{
	for (unsigned i = bits; i < len * 8; i++)
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

/* PREFIX into r (family, prefix, length). */
static int parse_prefix(struct fib_parser *p, char *text, struct fib_route *r)
{
	char *slash = strchr(text, '/');
	if (slash)
		*slash = 0;
	r->family = parse_address(text, r->prefix);
	if (!r->family)
		return parse_fail(p, "'%s' is not an IPv4 or IPv6 prefix", text);
	unsigned bits = r->family == FAMILY_INET ? 32 : 128;
	uint32_t len = bits;
	if (slash && parse_uint(slash + 1, 0, bits, &len))
		return parse_fail(p, "bad prefix length '%s' (0 to %u)", slash + 1, bits);
	if (!host_bits_zero(r->prefix, bits / 8, len))
		return parse_fail(p, "prefix %s/%u has bits set beyond its length", text, len);
	r->prefix_len = (uint8_t)len;
	return 0;
}

/* The words after PREFIX. */
static int parse_route_options(struct fib_parser *p, char **words, size_t n, struct fib_route *r)
{
	bool have_dev = false;
	for (size_t i = 0; i < n; i += 2) {
		const char *key = words[i], *val = i + 1 < n ? words[i + 1] : NULL;
		if (!val)
			return parse_fail(p, "'%s' needs a value", key);
		if (strcmp(key, "dev") == 0) {
			if (parse_uint(val, 1, 0x7fffffff, &r->ifindex))
				return parse_fail(p, "dev '%s' is not an interface index (1 or more)", val);
			have_dev = true;
		} else if (strcmp(key, "via") == 0) {
			r->gw_family = parse_address(val, r->gw);
			if (!r->gw_family)
				return parse_fail(p, "via '%s' is not an IPv4 or IPv6 address", val);
		} else if (strcmp(key, "smac") == 0 || strcmp(key, "dmac") == 0) {
			bool src = key[0] == 's';
			if (parse_mac(val, src ? r->smac : r->dmac))
				return parse_fail(p, "%s '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", key, val);
			*(src ? &r->has_smac : &r->has_dmac) = true;
		} else if (strcmp(key, "mtu") == 0) {
			if (parse_uint(val, 68, 65535, &r->mtu))
				return parse_fail(p, "mtu '%s' is not a number from 68 to 65535", val);
		} else if (strcmp(key, "metric") == 0) {
			if (parse_uint(val, 0, UINT32_MAX, &r->metric))
				return parse_fail(p, "metric '%s' is not a number from 0 to 4294967295", val);
		} else {
			return parse_fail(p, "unknown word '%s' (expected dev, via, smac, dmac, mtu or metric)", key);
		}
	}
	if (!have_dev)
		return parse_fail(p, "the route has no 'dev IFINDEX'");
	return 0;
}

static int fib_add(struct fib_parser *p, struct comb_fib *fib, const struct fib_route *r)
{
	for (size_t i = 0; i < fib->count; i++) {
		const struct fib_route *o = &fib->routes[i];
		if (o->family == r->family && o->prefix_len == r->prefix_len &&
		    memcmp(o->prefix, r->prefix, 16) == 0)
			return parse_fail(p, "the prefix was already given a route");
	}
	if (fib->count == fib->cap) {
		size_t cap = fib->cap ? fib->cap * 2 : 16;
		struct fib_route *grown = realloc(fib->routes, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		fib->routes = grown;
		fib->cap = cap;
	}
	fib->routes[fib->count++] = *r;
	return 0;
}

/* One line, already split into words (words[0] is PREFIX). */
static int parse_route(struct fib_parser *p, struct comb_fib *fib, char **words, size_t n)
{
	struct fib_route r = { .mtu = FIB_DEFAULT_MTU };
	int rc = parse_route_options(p, words + 1, n - 1, &r);
	if (rc)
		return rc;
	if (strcmp(words[0], "default") == 0) {
		if (r.gw_family != FAMILY_INET6) {
			r.family = FAMILY_INET;
			if ((rc = fib_add(p, fib, &r)))
				return rc;
		}
		if (r.gw_family == FAMILY_INET)
			return 0;
		r.family = FAMILY_INET6;
		return fib_add(p, fib, &r);
	}
	if ((rc = parse_prefix(p, words[0], &r)))
		return rc;
	if (r.family == FAMILY_INET6 && r.gw_family == FAMILY_INET)
		return parse_fail(p, "an IPv6 route cannot have an IPv4 gateway");
	return fib_add(p, fib, &r);
}

static size_t split_words(char *line, char **words, size_t max)
{
	size_t n = 0;
	for (char *save = NULL, *w = strtok_r(line, " \t\r\v\f", &save); w && n < max;
	     w = strtok_r(NULL, " \t\r\v\f", &save))
		words[n++] = w;
	return n;
}

int comb_fib_parse(const char *text, size_t len, struct comb_fib **out, char *err, size_t err_len)
{
	if (!out || (!text && len))
		return -EINVAL;
	*out = NULL;
	if (err && err_len)
		err[0] = 0;
	struct comb_fib *fib = calloc(1, sizeof(*fib));
	if (!fib)
		return -ENOMEM;
	struct fib_parser p = { .line = 0, .err = err, .err_len = err_len };
	int rc = 0;
	for (size_t pos = 0; pos < len && !rc;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char line[FIB_LINE_MAX], *words[16];
		p.line++;
		if (n >= sizeof(line) || memchr(text + pos, 0, n)) {
			rc = n >= sizeof(line) ? parse_fail(&p, "line longer than %d bytes", FIB_LINE_MAX - 1)
					       : parse_fail(&p, "NUL byte in the line");
			break;
		}
		memcpy(line, text + pos, n);
		line[n] = 0;
		pos += n + 1;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		size_t count = split_words(line, words, 16);
		if (count == 16)
			rc = parse_fail(&p, "too many words");
		else if (count)
			rc = parse_route(&p, fib, words, count);
	}
	if (rc) {
		comb_fib_free(fib);
		return rc;
	}
	*out = fib;
	return 0;
}

int comb_fib_load(const char *path, struct comb_fib **out, char *err, size_t err_len)
{
	if (!path || !out)
		return -EINVAL;
	*out = NULL;
	FILE *f = fopen(path, "r");
	if (!f) {
		int rc = -errno;
		snprintf(err, err_len, "fib: %s: %s", path, strerror(-rc));
		return rc;
	}
	char *text = NULL;
	size_t len = 0, cap = 0, got;
	char chunk[4096];
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + got > cap) {
			cap = (len + got) * 2;
			char *grown = realloc(text, cap);
			if (!grown) {
				free(text);
				fclose(f);
				return -ENOMEM;
			}
			text = grown;
		}
		memcpy(text + len, chunk, got);
		len += got;
	}
	fclose(f);
	char msg[256] = "";
	int rc = comb_fib_parse(text, len, out, msg, sizeof(msg));
	if (rc && err && err_len)
		snprintf(err, err_len, "%s: %s", path, msg);
	free(text);
	return rc;
}

void comb_fib_free(struct comb_fib *fib)
{
	if (!fib)
		return;
	free(fib->routes);
	free(fib);
}

/* ---- lookup ------------------------------------------------------------- */

static bool prefix_matches(const struct fib_route *r, const uint8_t *addr)
{
	unsigned full = r->prefix_len / 8, rest = r->prefix_len % 8;
	if (memcmp(r->prefix, addr, full) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (r->prefix[full] & mask) == (addr[full] & mask);
}

static const struct fib_route *fib_longest_match(const struct comb_fib *fib, uint8_t family, const uint8_t *addr)
{
	const struct fib_route *best = NULL;
	for (size_t i = 0; i < fib->count; i++) {
		const struct fib_route *r = &fib->routes[i];
		if (r->family == family && prefix_matches(r, addr) && (!best || r->prefix_len > best->prefix_len))
			best = r;
	}
	return best;
}

/* rt6_need_strict(): multicast, link-local or loopback. */
static bool ipv6_strict(const uint8_t *a)
{
	static const uint8_t loopback[16] = { [15] = 1 };
	return a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || memcmp(a, loopback, 16) == 0;
}

static int fib_lookup_params(const struct comb_fib *fib, struct bpf_fib_lookup *params, uint32_t flags)
{
	bool v4 = params->family == FAMILY_INET;
	const uint8_t *dst = v4 ? (const uint8_t *)&params->ipv4_dst : (const uint8_t *)params->ipv6_dst;
	if (!v4 && (ipv6_strict(dst) || ipv6_strict((const uint8_t *)params->ipv6_src)))
		return BPF_FIB_LKUP_RET_NOT_FWDED;
	const struct fib_route *r = fib ? fib_longest_match(fib, params->family, dst) : NULL;
	if (!r)
		return BPF_FIB_LKUP_RET_NOT_FWDED;
	if (params->tot_len > r->mtu) {
		params->mtu_result = (uint16_t)r->mtu;
		return BPF_FIB_LKUP_RET_FRAG_NEEDED;
	}
	params->rt_metric = r->metric;
	params->ifindex = r->ifindex;
	if (r->gw_family == FAMILY_INET) {
		memcpy(&params->ipv4_dst, r->gw, 4);
	} else if (r->gw_family == FAMILY_INET6) {
		params->family = FAMILY_INET6;
		memcpy(params->ipv6_dst, r->gw, 16);
	}
	if (!(flags & BPF_FIB_LOOKUP_SKIP_NEIGH)) {
		if (!r->has_dmac)
			return BPF_FIB_LKUP_RET_NO_NEIGH;
		memcpy(params->dmac, r->dmac, 6);
		memcpy(params->smac, r->smac, 6); /* zeros without smac */
	}
	params->h_vlan_TCI = 0;
	params->h_vlan_proto = 0;
	params->mtu_result = (uint16_t)r->mtu;
	return BPF_FIB_LKUP_RET_SUCCESS;
}

uint64_t comb_xdp_helper_fib_lookup(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				    struct comb_call_ctx *cc)
{
	struct bpf_fib_lookup *params = (struct bpf_fib_lookup *)(uintptr_t)r2;
	int32_t plen = (int32_t)r3;
	uint32_t flags = (uint32_t)r4;
	if (plen < (int32_t)sizeof(*params) || (flags & ~FIB_FLAGS_KNOWN))
		return (uint64_t)(int64_t)-EINVAL;
	if (comb_call_check_mem(cc, params, sizeof(*params), true))
		return (uint64_t)(int64_t)-EFAULT;
	if (params->family != FAMILY_INET && params->family != FAMILY_INET6)
		return (uint64_t)(int64_t)-EAFNOSUPPORT;
	struct xdp_frame_state *fs = xdp_frame_of(cc, r1);
	return (uint64_t)fib_lookup_params(fs ? fs->fib : NULL, params, flags);
}
