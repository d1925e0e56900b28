/* tests/kernel/xdp_filter_compare.c - xdp-filter, a real program no one
 * here wrote, in comb and in the kernel: same maps, same packets, same
 * answers.
 *
 * For each of the 10 variants Debian ships (/usr/lib/x86_64-linux-gnu/bpf/
 * xdpfilt_{alw,dny}_{all,eth,ip,tcp,udp}.o) the object is loaded twice: by
 * libbpf into the kernel and by comb. Their maps are filled the way the
 * xdp-filter tool fills them (xdp-filter's common_kern_user.h and
 * xdp-filter.c): per-CPU u64 values holding MAP_FLAG_SRC/DST/TCP/UDP bits on
 * every CPU; filter_ports keyed by the port in network order in a u32,
 * filter_ipv4 by the address, filter_ipv6 by struct in6_addr,
 * filter_ethernet by the 6-byte MAC. Every packet of a varied set (TCP, UDP,
 * ICMP, ARP, ICMPv6 neighbour messages, IPv4 and IPv6, 0-2 VLAN tags,
 * matching and other ports/addresses/MACs, headers cut at every layer) runs
 * through BPF_PROG_TEST_RUN and through comb's JIT and interpreter; the
 * verdict, the length and the bytes must agree. Afterwards the hit counters
 * the program keeps in its filter maps (value += 1 << 6) and its
 * xdp_stats_map must agree too.
 *
 * The maps are LIBBPF_PIN_BY_NAME: libbpf pins them into a private bpffs
 * (this process's own mount namespace, one directory per variant), removed
 * at the end. Output: failures, then `xdp-filter-compare: N passed, N failed`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "comb/comb.h"

#define XDPFILT_DIR "/usr/lib/x86_64-linux-gnu/bpf"
#define MAP_FLAG_SRC (1 << 0)
#define MAP_FLAG_DST (1 << 1)
#define MAP_FLAG_TCP (1 << 2)
#define MAP_FLAG_UDP (1 << 3)
#define COUNTER_SHIFT 6
#define MAX_PACKETS 4096
#define MAX_PKT 256
#define MAX_CPUS 1024

static int passed, failed, reported;

#define FAIL(...)                                                 \
	do {                                                      \
		failed++;                                         \
		if (reported++ < 40) {                            \
			printf("FAIL ");                          \
			printf(__VA_ARGS__);                      \
			printf("\n");                             \
		}                                                 \
	} while (0)

/* ---- packets ---- */

struct packet {
	uint8_t data[MAX_PKT];
	size_t len;
	char what[96];
};
static struct packet packets[MAX_PACKETS];
static size_t packet_count;

struct builder {
	uint8_t b[MAX_PKT];
	size_t len;
	size_t l3; /* where the network header starts */
};

static void put(struct builder *p, const void *bytes, size_t n)
{
	memcpy(p->b + p->len, bytes, n);
	p->len += n;
}

static void put16(struct builder *p, uint16_t v)
{
	uint16_t be = htons(v);
	put(p, &be, 2);
}

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 1 }, mac_b[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t mac_rule_dst[6] = { 2, 0, 0, 0, 0, 0x66 }, mac_rule_src[6] = { 2, 0, 0, 0, 0, 0x77 };

static void put_ethernet(struct builder *p, int mac_case, int vlans, uint16_t ethertype)
{
	put(p, mac_case == 1 ? mac_rule_dst : mac_b, 6);
	put(p, mac_case == 2 ? mac_rule_src : mac_a, 6);
	if (vlans == 2) {
		put16(p, 0x88a8), put16(p, 100);
	}
	if (vlans >= 1) {
		put16(p, 0x8100), put16(p, 200);
	}
	put16(p, ethertype);
	p->l3 = p->len;
}

static void put_ipv4(struct builder *p, const char *src, const char *dst, uint8_t proto, size_t l4_len)
{
	uint8_t h[20] = { 0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto };
	uint16_t total = htons((uint16_t)(20 + l4_len));
	memcpy(h + 2, &total, 2);
	inet_pton(AF_INET, src, h + 12);
	inet_pton(AF_INET, dst, h + 16);
	put(p, h, 20);
}

static void put_ipv6(struct builder *p, const char *src, const char *dst, uint8_t next, size_t l4_len)
{
	uint8_t h[40] = { 0x60, 0, 0, 0, 0, 0, next, 64 };
	uint16_t plen = htons((uint16_t)l4_len);
	memcpy(h + 4, &plen, 2);
	inet_pton(AF_INET6, src, h + 8);
	inet_pton(AF_INET6, dst, h + 24);
	put(p, h, 40);
}

static void put_l4(struct builder *p, int proto, uint16_t sport, uint16_t dport)
{
	if (proto == IPPROTO_TCP) {
		uint8_t t[20] = { 0 };
		uint16_t s = htons(sport), d = htons(dport);
		memcpy(t, &s, 2), memcpy(t + 2, &d, 2);
		t[12] = 5 << 4, t[13] = 0x02;
		put(p, t, 20);
	} else if (proto == IPPROTO_UDP) {
		put16(p, sport), put16(p, dport), put16(p, 12), put16(p, 0);
		put(p, "data", 4);
	} else { /* ICMP / ICMPv6 echo */
		uint8_t e[8] = { proto == IPPROTO_ICMPV6 ? 128 : 8, 0, 0, 0, 0, 1, 0, 1 };
		put(p, e, 8);
	}
}

static void add_packet(const struct builder *p, size_t len, const char *what)
{
	if (packet_count >= MAX_PACKETS)
		return;
	struct packet *k = &packets[packet_count++];
	memcpy(k->data, p->b, len);
	k->len = len;
	snprintf(k->what, sizeof(k->what), "%s", what);
}

/* The full packet, and (plain Ethernet, first MAC case only) cuts at every layer. */
static void add_with_cuts(const struct builder *p, size_t l4, bool cuts, const char *what)
{
	char text[96];
	add_packet(p, p->len, what);
	if (!cuts)
		return;
	size_t at[] = { 14, 15, p->l3 + 1, p->l3 + 10, l4 - 1, l4, l4 + 1, l4 + 3, p->len - 1 };
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		if (at[i] < 14 || at[i] >= p->len)
			continue;
		snprintf(text, sizeof(text), "%s cut at %zu", what, at[i]);
		add_packet(p, at[i], text);
	}
}

static const uint16_t port_pairs[][2] = {
	{ 12345, 80 }, { 80, 12345 }, { 53, 12345 }, { 12345, 53 }, { 22, 999 }, { 999, 22 }, { 8080, 8080 }, { 12345, 12345 },
};
static const char *const v4_pairs[][2] = {
	{ "10.0.0.1", "10.0.0.2" }, { "10.0.0.1", "10.0.0.66" }, { "192.168.7.7", "10.0.0.2" },
};
static const char *const v6_pairs[][2] = {
	{ "2001:db8::1", "2001:db8::2" }, { "2001:db8::1", "2001:db8::66" }, { "fe80::7", "2001:db8::2" },
};

static void add_ip_packets(int mac_case, int vlans, bool v6)
{
	char what[96];
	bool cuts = mac_case == 0 && vlans <= 1;
	for (size_t a = 0; a < 3; a++) {
		const char *src = v6 ? v6_pairs[a][0] : v4_pairs[a][0], *dst = v6 ? v6_pairs[a][1] : v4_pairs[a][1];
		for (int proto_i = 0; proto_i < 3; proto_i++) {
			int proto = proto_i == 0 ? IPPROTO_TCP : proto_i == 1 ? IPPROTO_UDP : v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
			size_t pairs = proto_i == 2 ? 1 : sizeof(port_pairs) / sizeof(port_pairs[0]);
			for (size_t k = 0; k < pairs; k++) {
				struct builder p = { .len = 0 };
				size_t l4_len = proto == IPPROTO_TCP ? 20 : proto == IPPROTO_UDP ? 12 : 8;
				put_ethernet(&p, mac_case, vlans, v6 ? 0x86dd : 0x0800);
				if (v6)
					put_ipv6(&p, src, dst, (uint8_t)proto, l4_len);
				else
					put_ipv4(&p, src, dst, (uint8_t)proto, l4_len);
				size_t l4 = p.len;
				put_l4(&p, proto, port_pairs[k][0], port_pairs[k][1]);
				snprintf(what, sizeof(what), "mac%d vlan%d %s %s>%s proto %d %u>%u", mac_case, vlans,
					 v6 ? "ipv6" : "ipv4", src, dst, proto, port_pairs[k][0], port_pairs[k][1]);
				add_with_cuts(&p, l4, cuts && k < 2, what);
			}
		}
	}
}

static void add_arp_packets(int mac_case, int vlans)
{
	static const char *const ips[][2] = { { "10.0.0.1", "10.0.0.66" }, { "192.168.7.7", "10.0.0.2" } };
	char what[96];
	for (int op = 1; op <= 2; op++)
		for (size_t i = 0; i < 2; i++) {
			struct builder p = { .len = 0 };
			uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, (uint8_t)op };
			memcpy(arp + 8, mac_a, 6);
			inet_pton(AF_INET, ips[i][0], arp + 14);
			inet_pton(AF_INET, ips[i][1], arp + 24);
			put_ethernet(&p, mac_case, vlans, 0x0806);
			put(&p, arp, sizeof(arp));
			snprintf(what, sizeof(what), "mac%d vlan%d arp op %d %s>%s", mac_case, vlans, op, ips[i][0], ips[i][1]);
			add_with_cuts(&p, p.l3 + 8, mac_case == 0 && vlans == 0, what);
		}
}

static void add_neighbour_packets(int mac_case, int vlans)
{
	static const char *const targets[] = { "2001:db8::66", "fe80::7", "2001:db8::5" };
	char what[96];
	for (int type = 135; type <= 136; type++)
		for (size_t i = 0; i < 3; i++) {
			struct builder p = { .len = 0 };
			uint8_t icmp[24] = { (uint8_t)type };
			inet_pton(AF_INET6, targets[i], icmp + 8);
			put_ethernet(&p, mac_case, vlans, 0x86dd);
			put_ipv6(&p, "2001:db8::1", "ff02::1", IPPROTO_ICMPV6, sizeof(icmp));
			size_t l4 = p.len;
			put(&p, icmp, sizeof(icmp));
			snprintf(what, sizeof(what), "mac%d vlan%d icmpv6 %d target %s", mac_case, vlans, type, targets[i]);
			add_with_cuts(&p, l4, mac_case == 0 && vlans == 0, what);
		}
}

static void build_packets(void)
{
	for (int mac_case = 0; mac_case < 3; mac_case++)
		for (int vlans = 0; vlans <= 2; vlans++) {
			add_ip_packets(mac_case, vlans, false);
			add_ip_packets(mac_case, vlans, true);
			add_arp_packets(mac_case, vlans);
			add_neighbour_packets(mac_case, vlans);
		}
	struct builder other = { .len = 0 };
	put_ethernet(&other, 0, 0, 0x88cc); /* LLDP: neither IP nor ARP */
	put(&other, "lldp-payload", 12);
	add_packet(&other, other.len, "lldp");
}

/* ---- maps, in both worlds ---- */

struct variant {
	const char *name;
	struct bpf_object *kobj;
	int kprog;
	struct comb_object *cobj;
	struct comb_vm *vm;
	struct comb_prog *cprog;
	int kernel_cpus, comb_cpus;
};

/* Set flags on every CPU, as xdp-filter's map_set_flags does. */
static int set_rule(struct variant *v, const char *map_name, const void *key, uint64_t flags)
{
	static uint64_t values[MAX_CPUS];
	struct bpf_map *km = bpf_object__find_map_by_name(v->kobj, map_name);
	int ci = comb_object_find_map(v->cobj, map_name);
	if (!km && ci < 0)
		return 0; /* this variant does not filter on it */
	if (!km || ci < 0) {
		FAIL("%s: map %s exists in only one of kernel and comb", v->name, map_name);
		return -1;
	}
	for (int c = 0; c < MAX_CPUS; c++)
		values[c] = flags;
	int rc = bpf_map_update_elem(bpf_map__fd(km), key, values, 0);
	int crc = comb_map_update(comb_object_map(v->cobj, (size_t)ci), key, values, 0);
	if (rc || crc) {
		FAIL("%s: %s: update: kernel %d, comb %d", v->name, map_name, rc, crc);
		return -1;
	}
	return 0;
}

static int configure(struct variant *v)
{
	uint32_t port;
	uint8_t a4[4], a6[16];
	int rc = 0;
	const struct {
		uint16_t port;
		uint64_t flags;
	} ports[] = {
		{ 80, MAP_FLAG_DST | MAP_FLAG_TCP }, { 53, MAP_FLAG_SRC | MAP_FLAG_DST | MAP_FLAG_UDP },
		{ 22, MAP_FLAG_SRC | MAP_FLAG_TCP }, { 8080, MAP_FLAG_DST | MAP_FLAG_TCP | MAP_FLAG_UDP },
		{ 999, MAP_FLAG_TCP }, /* no direction: never matches */
	};
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		port = htons(ports[i].port);
		rc |= set_rule(v, "filter_ports", &port, ports[i].flags);
	}
	inet_pton(AF_INET, "10.0.0.66", a4), rc |= set_rule(v, "filter_ipv4", a4, MAP_FLAG_DST);
	inet_pton(AF_INET, "192.168.7.7", a4), rc |= set_rule(v, "filter_ipv4", a4, MAP_FLAG_SRC);
	inet_pton(AF_INET6, "2001:db8::66", a6), rc |= set_rule(v, "filter_ipv6", a6, MAP_FLAG_DST);
	inet_pton(AF_INET6, "fe80::7", a6), rc |= set_rule(v, "filter_ipv6", a6, MAP_FLAG_SRC);
	rc |= set_rule(v, "filter_ethernet", mac_rule_dst, MAP_FLAG_DST);
	rc |= set_rule(v, "filter_ethernet", mac_rule_src, MAP_FLAG_SRC);
	return rc;
}

/* Sum of one u64 field over CPUs (kernel layout: value_size rounded to 8). */
static uint64_t percpu_sum(const uint64_t *values, int cpus, size_t stride_words, size_t word, int shift)
{
	uint64_t sum = 0;
	for (int c = 0; c < cpus; c++)
		sum += values[(size_t)c * stride_words + word] >> shift;
	return sum;
}

/* Compare the totals of every key the program counts in (both sides ran
 * each packet twice: once per comb engine). */
static void compare_counters(struct variant *v, const char *map_name, size_t words, int shift)
{
	static uint64_t kv[MAX_CPUS * 2], cv[MAX_CPUS * 2];
	uint8_t key[64], next[64];
	struct bpf_map *km = bpf_object__find_map_by_name(v->kobj, map_name);
	int ci = comb_object_find_map(v->cobj, map_name);
	if (!km || ci < 0)
		return;
	struct comb_map *cm = comb_object_map(v->cobj, (size_t)ci);
	int fd = bpf_map__fd(km);
	size_t checked = 0;
	void *prev = NULL;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, sizeof(key));
		prev = key;
		if (bpf_map_lookup_elem(fd, key, kv) || comb_map_lookup(cm, key, cv)) {
			FAIL("%s: %s: a key the kernel has is missing in comb", v->name, map_name);
			continue;
		}
		for (size_t w = 0; w < words; w++) {
			uint64_t k = percpu_sum(kv, v->kernel_cpus, words, w, shift);
			uint64_t c = percpu_sum(cv, v->comb_cpus, words, w, shift);
			if (c != k)
				FAIL("%s: %s: key %zu, counter %zu: kernel %llu, comb %llu", v->name, map_name, checked,
				     w, (unsigned long long)k, (unsigned long long)c);
			else if (k) /* (array maps: the empty slots are no news) */
				passed++;
		}
		checked++;
	}
	if (!checked)
		FAIL("%s: %s: no entries to compare", v->name, map_name);
}

/* ---- runs ---- */

static uint64_t kernel_verdicts[8]; /* of the current variant, for the summary line */

static void compare_packet(struct variant *v, struct comb_xdp *x, const char *engine, size_t i)
{
	const struct packet *k = &packets[i];
	uint8_t out[4096];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = k->data, .data_size_in = (uint32_t)k->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	int krc = bpf_prog_test_run_opts(v->kprog, &opts);
	struct comb_xdp_result res;
	int crc = comb_xdp_run(x, k->data, k->len, &res);
	if (!krc)
		kernel_verdicts[opts.retval < 7 ? opts.retval : 7]++;
	if (krc || crc) {
		if ((krc != 0) != (crc != 0))
			FAIL("%s %s: packet %zu (%s): kernel test run %d, comb %d (%s)", v->name, engine, i, k->what,
			     krc, crc, res.error.message);
		else
			passed++;
		return;
	}
	if ((uint32_t)res.retval != opts.retval || res.len != opts.data_size_out ||
	    memcmp(res.data, out, res.len) != 0)
		FAIL("%s %s: packet %zu (%s, %zu bytes): kernel %u/%u bytes, comb %u/%zu bytes%s", v->name, engine, i,
		     k->what, k->len, opts.retval, opts.data_size_out, (uint32_t)res.retval, res.len,
		     res.len == opts.data_size_out ? " (bytes differ)" : "");
	else
		passed++;
}

static int open_variant(struct variant *v, const char *path, const char *pin_dir)
{
	char err[512] = "";
	LIBBPF_OPTS(bpf_object_open_opts, kopts, .pin_root_path = pin_dir);
	v->kobj = bpf_object__open_file(path, &kopts);
	if (!v->kobj || bpf_object__load(v->kobj)) {
		FAIL("%s: libbpf cannot load it: %s", v->name, strerror(errno));
		return -1;
	}
	struct bpf_program *kp = bpf_object__next_program(v->kobj, NULL);
	v->kprog = kp ? bpf_program__fd(kp) : -1;
	int rc = comb_object_open_file(path, NULL, &v->cobj, err, sizeof(err));
	if (!rc)
		rc = comb_vm_new(NULL, &v->vm);
	if (!rc)
		rc = comb_object_load(v->cobj, v->vm, err, sizeof(err));
	if (rc || v->kprog < 0) {
		FAIL("%s: comb cannot load it: %s", v->name, err);
		return -1;
	}
	v->cprog = comb_object_prog(v->cobj, 0);
	v->kernel_cpus = libbpf_num_possible_cpus();
	v->comb_cpus = (int)sysconf(_SC_NPROCESSORS_CONF);
	return 0;
}

static void close_variant(struct variant *v)
{
	if (v->kobj) {
		bpf_object__unpin_maps(v->kobj, NULL);
		bpf_object__close(v->kobj);
	}
	comb_object_close(v->cobj);
	comb_vm_free(v->vm);
}

static void compare_variant(const char *name, const char *bpffs)
{
	char path[512], pin_dir[512];
	snprintf(path, sizeof(path), "%s/%s.o", XDPFILT_DIR, name);
	snprintf(pin_dir, sizeof(pin_dir), "%s/%s", bpffs, name);
	if (access(path, R_OK)) {
		printf("%s: skipped (%s not installed)\n", name, path);
		return;
	}
	mkdir(pin_dir, 0700);
	struct variant v = { .name = name };
	if (!open_variant(&v, path, pin_dir) && !configure(&v)) {
		memset(kernel_verdicts, 0, sizeof(kernel_verdicts));
		enum comb_engine engines[] = { COMB_ENGINE_JIT, COMB_ENGINE_INTERP };
		for (size_t e = 0; e < 2; e++) {
			struct comb_xdp_opts xo = { .sz = sizeof(xo), .engine = engines[e] };
			struct comb_xdp *x;
			if (comb_xdp_new(v.cprog, &xo, &x)) {
				FAIL("%s: comb_xdp_new", name);
				continue;
			}
			for (size_t i = 0; i < packet_count; i++)
				compare_packet(&v, x, comb_engine_name(engines[e]), i);
			comb_xdp_free(x);
		}
		static const char *const filters[] = { "filter_ports", "filter_ipv4", "filter_ipv6", "filter_ethernet" };
		for (size_t f = 0; f < 4; f++)
			compare_counters(&v, filters[f], 1, COUNTER_SHIFT);
		compare_counters(&v, "xdp_stats_map", 2, 0);
		printf("%s: kernel verdicts (x2): ABORTED %llu, DROP %llu, PASS %llu\n", name,
		       (unsigned long long)kernel_verdicts[0], (unsigned long long)kernel_verdicts[1],
		       (unsigned long long)kernel_verdicts[2]);
	}
	close_variant(&v);
	rmdir(pin_dir);
}

/* A bpffs only this process sees. */
static int private_bpffs(char *dir, size_t len, char *why, size_t why_len)
{
	snprintf(dir, len, "/tmp/comb-xdpfilt-XXXXXX");
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		snprintf(why, why_len, "no private mount namespace: %s", strerror(errno));
		return -1;
	}
	if (!mkdtemp(dir)) {
		snprintf(why, why_len, "mkdtemp: %s", strerror(errno));
		return -1;
	}
	if (mount("bpf", dir, "bpf", 0, NULL)) {
		snprintf(why, why_len, "cannot mount a bpffs: %s", strerror(errno));
		rmdir(dir);
		return -1;
	}
	return 0;
}

int main(void)
{
	static const char *const variants[] = {
		"xdpfilt_alw_all", "xdpfilt_alw_eth", "xdpfilt_alw_ip", "xdpfilt_alw_tcp", "xdpfilt_alw_udp",
		"xdpfilt_dny_all", "xdpfilt_dny_eth", "xdpfilt_dny_ip", "xdpfilt_dny_tcp", "xdpfilt_dny_udp",
	};
	char bpffs[64], why[256];
	libbpf_set_print(NULL);
	if (private_bpffs(bpffs, sizeof(bpffs), why, sizeof(why))) {
		printf("xdp-filter-compare: skipped (%s)\n", why);
		printf("xdp-filter-compare: 0 passed, 0 failed\n");
		return 0;
	}
	build_packets();
	printf("%zu packets per variant\n", packet_count);
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
		compare_variant(variants[i], bpffs);
	umount2(bpffs, MNT_DETACH);
	rmdir(bpffs);
	printf("xdp-filter-compare: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
