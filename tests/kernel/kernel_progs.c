/* tests/kernel/kernel_progs.c - clang-built objects, run by comb and by the kernel.
 *
 * For every DIR/run_*.bpf.o (tests/progs/run_*.bpf.c) the object is loaded
 * four times: into the kernel with libbpf (bpf_object__open_file and
 * bpf_object__load; nothing is pinned or attached) and into comb three
 * times (one VM per engine: checked and interp, unverified; and the JIT,
 * verified when comb's verifier accepts the program, so that its native
 * code leaves out what the verifier's facts proved unneeded). Each program then gets the same
 * sequence of packets, generated here (valid UDP/TCP over IPv4, VLAN, IP
 * options, fragments, bad checksums, truncated headers, ARP, IPv6, bare
 * Ethernet, ...), through BPF_PROG_TEST_RUN in the kernel and
 * comb_prog_test_run in comb. After each packet the return value, the
 * packet as the program left it (data_out) and the contents of every map,
 * global data (.data, .rodata, .bss) included, must agree. State carries
 * over from packet to packet, so counters, inserts and deletes build up.
 * Each program/packet pair is one test.
 *
 * Per-CPU values are compared as multisets of per-CPU slots: the kernel
 * runs a test on whichever CPU it is on, comb on its own notion of one.
 * When bpf() is not permitted the suite skips with a message and reports
 * `kernel-progs: 0 passed, 0 failed`.
 *
 * Usage: kernel-progs [-v] DIR
 */
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "comb/map.h"
#include "comb/object.h"
#include "comb/testrun.h"
#include "comb/vm.h"
#include "kernel_bpf.h"

#define MAX_PACKET 1024
#define DATA_OUT_SIZE (MAX_PACKET + 512)
#define MAX_PACKETS 32
#define MAX_ENTRIES_COMPARED 4096

static struct kernel_tally tally;

/* ---- packets ------------------------------------------------------------ */

struct packet {
	const char *name;
	uint8_t data[MAX_PACKET];
	size_t len;
};

struct ipv4_spec {
	uint8_t proto;          /* 6 TCP, 17 UDP */
	uint16_t sport, dport;
	size_t payload;
	unsigned ihl;           /* 5 .. 15 words */
	uint16_t frag_off;      /* host order, flags included */
	uint8_t ttl;
	uint8_t tcp_flags;
	bool vlan;
	bool bad_checksum;
	size_t truncate_to;     /* 0: keep the whole packet */
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t ipv4_checksum(const uint8_t *hdr, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(hdr[i] << 8 | hdr[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Ethernet header: destination, source (distinct, unicast), EtherType. */
static size_t put_ethernet(uint8_t *p, uint16_t ethertype)
{
	static const uint8_t dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
	static const uint8_t src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	put16(p + 12, ethertype);
	return 14;
}

static void build_ipv4(struct packet *pk, const char *name, const struct ipv4_spec *s)
{
	uint8_t *p = pk->data;
	size_t off = 0;
	memset(pk->data, 0, sizeof(pk->data));
	pk->name = name;
	if (s->vlan) {
		off = put_ethernet(p, 0x8100);
		put16(p + off, 42); /* VLAN id */
		put16(p + off + 2, 0x0800);
		off += 4;
	} else {
		off = put_ethernet(p, 0x0800);
	}
	size_t ihl = s->ihl ? s->ihl : 5, l4_len = s->proto == 6 ? 20 : 8;
	size_t total = ihl * 4 + l4_len + s->payload;
	uint8_t *ip = p + off;
	ip[0] = (uint8_t)(0x40 | ihl);
	put16(ip + 2, (uint16_t)total);
	put16(ip + 4, 0x1234);
	put16(ip + 6, s->frag_off);
	ip[8] = s->ttl ? s->ttl : 64;
	ip[9] = s->proto;
	put32(ip + 12, 0x0a000001);
	put32(ip + 16, 0x0a000002);
	for (size_t i = 20; i < ihl * 4; i++)
		ip[i] = 1; /* NOP options */
	put16(ip + 10, ipv4_checksum(ip, ihl < 5 ? 20 : ihl * 4));
	if (s->bad_checksum)
		ip[10] ^= 0x5a;
	uint8_t *l4 = ip + (ihl < 5 ? 20 : ihl * 4);
	put16(l4, s->sport);
	put16(l4 + 2, s->dport);
	if (s->proto == 17) {
		put16(l4 + 4, (uint16_t)(8 + s->payload));
	} else {
		put32(l4 + 4, 1000);
		l4[12] = 5 << 4;
		l4[13] = s->tcp_flags;
	}
	for (size_t i = 0; i < s->payload; i++)
		l4[l4_len + i] = (uint8_t)(i * 7 + 3);
	pk->len = (size_t)(l4 - p) + l4_len + s->payload;
	if (s->truncate_to && s->truncate_to < pk->len)
		pk->len = s->truncate_to;
}

static void build_raw(struct packet *pk, const char *name, uint16_t ethertype, size_t payload)
{
	memset(pk->data, 0, sizeof(pk->data));
	pk->name = name;
	size_t off = put_ethernet(pk->data, ethertype);
	for (size_t i = 0; i < payload; i++)
		pk->data[off + i] = (uint8_t)(0xa0 + i);
	pk->len = off + payload;
}

enum { TCP_FIN = 1, TCP_SYN = 2, TCP_ACK = 16 };

static size_t build_packets(struct packet *pk)
{
	size_t n = 0;
	build_ipv4(&pk[n++], "udp-dns", &(struct ipv4_spec){ .proto = 17, .sport = 40000, .dport = 53, .payload = 20 });
	build_ipv4(&pk[n++], "udp-echo", &(struct ipv4_spec){ .proto = 17, .sport = 12345, .dport = 7, .payload = 5 });
	for (int i = 0; i < 3; i++)
		build_ipv4(&pk[n++], "udp-8080", &(struct ipv4_spec){ .proto = 17, .sport = 5000, .dport = 8080, .payload = 10 + (size_t)i });
	build_ipv4(&pk[n++], "tcp-syn-80", &(struct ipv4_spec){ .proto = 6, .sport = 33000, .dport = 80, .tcp_flags = TCP_SYN });
	build_ipv4(&pk[n++], "tcp-ack-22", &(struct ipv4_spec){ .proto = 6, .sport = 33001, .dport = 22, .tcp_flags = TCP_ACK, .payload = 30 });
	build_ipv4(&pk[n++], "tcp-fin-80", &(struct ipv4_spec){ .proto = 6, .sport = 33000, .dport = 80, .tcp_flags = TCP_FIN | TCP_ACK, .ttl = 2 });
	build_ipv4(&pk[n++], "udp-ip-options", &(struct ipv4_spec){ .proto = 17, .sport = 1, .dport = 8080, .ihl = 7, .payload = 3 });
	build_ipv4(&pk[n++], "vlan-udp", &(struct ipv4_spec){ .proto = 17, .sport = 2, .dport = 9999, .vlan = true, .payload = 4 });
	build_ipv4(&pk[n++], "ipv4-fragment", &(struct ipv4_spec){ .proto = 17, .sport = 3, .dport = 53, .frag_off = 0x2010, .payload = 16 });
	build_ipv4(&pk[n++], "bad-checksum", &(struct ipv4_spec){ .proto = 17, .sport = 4, .dport = 53, .bad_checksum = true });
	build_ipv4(&pk[n++], "ttl-1", &(struct ipv4_spec){ .proto = 17, .sport = 5, .dport = 6, .ttl = 1 });
	build_ipv4(&pk[n++], "ihl-too-small", &(struct ipv4_spec){ .proto = 17, .sport = 6, .dport = 7, .ihl = 4 });
	build_ipv4(&pk[n++], "truncated-udp", &(struct ipv4_spec){ .proto = 17, .sport = 8, .dport = 9, .truncate_to = 38 });
	build_ipv4(&pk[n++], "truncated-tcp", &(struct ipv4_spec){ .proto = 6, .sport = 9, .dport = 10, .truncate_to = 44 });
	build_ipv4(&pk[n++], "large-udp", &(struct ipv4_spec){ .proto = 17, .sport = 10, .dport = 11, .payload = 700 });
	build_raw(&pk[n++], "arp", 0x0806, 28);
	build_raw(&pk[n++], "ipv6", 0x86dd, 48);
	build_raw(&pk[n++], "vlan-truncated", 0x8100, 2);
	build_raw(&pk[n++], "arp-ethernet-only", 0x0806, 0);
	/* Last, because the kernel refuses them for skb program types (an IP
	 * EtherType without a whole IP header): were comb to run them, every
	 * later comparison of the maps would differ too. */
	build_ipv4(&pk[n++], "truncated-ip", &(struct ipv4_spec){ .proto = 17, .sport = 7, .dport = 8, .truncate_to = 24 });
	build_raw(&pk[n++], "ipv6-truncated", 0x86dd, 20);
	build_raw(&pk[n++], "ethernet-only", 0x0800, 0);
	return n;
}

/* ---- results ------------------------------------------------------------ */

/* Append a formatted difference to a test's message buffer. */
__attribute__((format(printf, 3, 4)))
static void note(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	if (used + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static void hex_into(char *out, size_t len, const uint8_t *bytes, size_t n)
{
	size_t used = 0;
	out[0] = 0;
	for (size_t i = 0; i < n && used + 3 < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%02x", bytes[i]);
	if (n * 2 + 1 > len && len > 4)
		strcpy(out + len - 4, "...");
}

/* ---- map contents ------------------------------------------------------- */

/* Every (key, value) of a map, sorted by key; per-CPU values normalised. */
struct map_dump {
	size_t count;
	size_t key_size, value_len;
	uint8_t *keys;   /* count * key_size */
	uint8_t *values; /* count * value_len */
};

static void map_dump_free(struct map_dump *d)
{
	free(d->keys);
	free(d->values);
	memset(d, 0, sizeof(*d));
}

static size_t sort_width;
static int compare_bytes(const void *a, const void *b)
{
	return memcmp(a, b, sort_width);
}

/* Sort the per-CPU slots of one value so that which CPU ran does not matter. */
static void normalise_percpu(uint8_t *value, size_t cpus, size_t stride)
{
	sort_width = stride;
	qsort(value, cpus, stride, compare_bytes);
}

/* Sort entries by key: keys and values move together through an index. */
static void sort_dump(struct map_dump *d)
{
	size_t row = d->key_size + d->value_len;
	uint8_t *rows = malloc(d->count * row + 1);
	if (!rows)
		return;
	for (size_t i = 0; i < d->count; i++) {
		memcpy(rows + i * row, d->keys + i * d->key_size, d->key_size);
		memcpy(rows + i * row + d->key_size, d->values + i * d->value_len, d->value_len);
	}
	sort_width = d->key_size;
	qsort(rows, d->count, row, compare_bytes);
	for (size_t i = 0; i < d->count; i++) {
		memcpy(d->keys + i * d->key_size, rows + i * row, d->key_size);
		memcpy(d->values + i * d->value_len, rows + i * row + d->key_size, d->value_len);
	}
	free(rows);
}

/* The two ways to walk a map: the kernel's (fd) and comb's (handle). */
struct map_walker {
	int (*next_key)(void *map, const void *key, void *next);
	int (*lookup)(void *map, const void *key, void *value);
	void *map;
};

static int kernel_next_key(void *map, const void *key, void *next)
{
	return bpf_map_get_next_key((int)(long)map, key, next) ? -errno : 0;
}

static int kernel_lookup(void *map, const void *key, void *value)
{
	return bpf_map_lookup_elem((int)(long)map, key, value) ? -errno : 0;
}

static int comb_next_key(void *map, const void *key, void *next)
{
	return comb_map_get_next_key(map, key, next);
}

static int comb_lookup(void *map, const void *key, void *value)
{
	return comb_map_lookup(map, key, value);
}

static int dump_map(const struct map_walker *w, size_t key_size, size_t value_size, bool percpu,
		    size_t cpus, struct map_dump *d)
{
	size_t stride = (value_size + 7) & ~(size_t)7;
	memset(d, 0, sizeof(*d));
	d->key_size = key_size;
	d->value_len = percpu ? stride * cpus : value_size;
	d->keys = calloc(MAX_ENTRIES_COMPARED, key_size ? key_size : 1);
	d->values = calloc(MAX_ENTRIES_COMPARED, d->value_len + 1);
	uint8_t *key = calloc(1, key_size + 1), *next = calloc(1, key_size + 1);
	/* Room for more CPUs than expected, in case the two disagree. */
	uint8_t *value = calloc(percpu ? 2 * cpus : 1, stride + 8);
	int rc = (d->keys && d->values && key && next && value) ? 0 : -ENOMEM;
	for (const void *prev = NULL; rc == 0 && d->count < MAX_ENTRIES_COMPARED; prev = key) {
		rc = w->next_key(w->map, prev, next);
		if (rc == -ENOENT) {
			rc = 0;
			break;
		}
		if (rc)
			break;
		memcpy(key, next, key_size);
		rc = w->lookup(w->map, key, value);
		if (rc == -ENOENT) { /* deleted meanwhile: cannot happen here */
			rc = 0;
			continue;
		}
		if (percpu)
			normalise_percpu(value, cpus, stride);
		memcpy(d->keys + d->count * key_size, key, key_size);
		memcpy(d->values + d->count * d->value_len, value, d->value_len);
		d->count++;
	}
	free(key);
	free(next);
	free(value);
	if (rc)
		map_dump_free(d);
	else
		sort_dump(d);
	return rc;
}

static bool is_percpu_type(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* Compare two dumps; differences go to why. */
static bool same_dump(const char *name, const struct map_dump *k, const struct map_dump *c,
		      char *why, size_t why_len)
{
	char kh[80], ch[80], keyh[40];
	if (k->count != c->count) {
		note(why, why_len, "map %s: kernel has %zu entries, comb %zu; ", name, k->count,
		     c->count);
		return false;
	}
	for (size_t i = 0; i < k->count; i++) {
		const uint8_t *kk = k->keys + i * k->key_size, *ck = c->keys + i * c->key_size;
		const uint8_t *kv = k->values + i * k->value_len, *cv = c->values + i * c->value_len;
		hex_into(keyh, sizeof(keyh), kk, k->key_size);
		if (memcmp(kk, ck, k->key_size) != 0) {
			hex_into(ch, sizeof(ch), ck, c->key_size);
			note(why, why_len, "map %s: entry %zu key kernel %s comb %s; ", name, i, keyh,
			     ch);
			return false;
		}
		if (memcmp(kv, cv, k->value_len) != 0) {
			hex_into(kh, sizeof(kh), kv, k->value_len);
			hex_into(ch, sizeof(ch), cv, c->value_len);
			note(why, why_len, "map %s: key %s value kernel %s comb %s; ", name, keyh, kh,
			     ch);
			return false;
		}
	}
	return true;
}

/* ---- one object in the kernel and in comb --------------------------------- */

enum { ENGINES = 3 };
static const enum comb_engine engines[ENGINES] = { COMB_ENGINE_CHECKED, COMB_ENGINE_INTERP, COMB_ENGINE_JIT };

struct subject {
	const char *path, *short_name;
	struct bpf_object *kobj;
	struct comb_object *cobj[ENGINES];
	struct comb_vm *vm[ENGINES];
	int cpus;
};

static void subject_close(struct subject *s)
{
	bpf_object__close(s->kobj);
	for (int e = 0; e < ENGINES; e++) {
		comb_object_close(s->cobj[e]);
		comb_vm_free(s->vm[e]);
	}
	memset(s, 0, sizeof(*s));
}

static int subject_open(struct subject *s, const char *path, char *why, size_t why_len)
{
	char err[512] = "";
	memset(s, 0, sizeof(*s));
	s->path = path;
	s->short_name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	s->cpus = libbpf_num_possible_cpus();
	s->kobj = bpf_object__open_file(path, NULL);
	if (!s->kobj) {
		snprintf(why, why_len, "libbpf cannot open it: %s", strerror(errno));
		return -1;
	}
	int rc = bpf_object__load(s->kobj);
	if (rc) {
		snprintf(why, why_len, "the kernel rejects it: %s", strerror(-rc));
		return -1;
	}
	for (int e = 0; e < ENGINES; e++) {
		rc = comb_object_open_file(path, NULL, &s->cobj[e], err, sizeof(err));
		if (rc == 0)
			rc = comb_vm_new(NULL, &s->vm[e]);
		/* Runs are compared here, in the engines named above; comb's
		 * verdicts are kernel-verdicts' (comb still rejects xdp_parse and
		 * xdp_hash, which the kernel accepts). */
		bool verify = engines[e] == COMB_ENGINE_JIT;
		if (rc == 0)
			rc = comb_object_set_verify(s->cobj[e], verify);
		if (rc == 0)
			rc = comb_object_load(s->cobj[e], s->vm[e], err, sizeof(err));
		if (rc == -EACCES && verify) { /* comb's verifier rejects one: the JIT without facts */
			comb_object_close(s->cobj[e]);
			s->cobj[e] = NULL;
			err[0] = 0;
			rc = comb_object_open_file(path, NULL, &s->cobj[e], err, sizeof(err));
			if (rc == 0)
				rc = comb_object_set_verify(s->cobj[e], false);
			if (rc == 0)
				rc = comb_object_load(s->cobj[e], s->vm[e], err, sizeof(err));
		}
		if (rc) {
			snprintf(why, why_len, "comb cannot open or load it: %s",
				 err[0] ? err : strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/* The comb map that libbpf's map corresponds to: same name, or for global
 * data comb's section name (".bss") at the end of libbpf's ("obj.bss"). */
static int find_comb_map(const struct comb_object *obj, const struct bpf_map *km)
{
	const char *name = bpf_map__name(km);
	int found = comb_object_find_map(obj, name);
	if (found >= 0 || !bpf_map__is_internal(km))
		return found;
	size_t n = strlen(name), best_len = 0;
	for (size_t i = 0; i < comb_object_map_count(obj); i++) {
		struct comb_object_map_info info;
		if (comb_object_map_info(obj, i, &info) || !info.is_global_data)
			continue;
		size_t m = strlen(info.name);
		if (m <= n && m > best_len && strcmp(name + n - m, info.name) == 0) {
			found = (int)i;
			best_len = m;
		}
	}
	return found;
}

static bool compare_maps(const struct subject *s, int e, char *why, size_t why_len)
{
	struct bpf_map *km;
	size_t kernel_maps = 0;
	bool ok = true;
	bpf_object__for_each_map(km, s->kobj) {
		kernel_maps++;
		const char *name = bpf_map__name(km);
		int index = find_comb_map(s->cobj[e], km);
		if (index < 0) {
			note(why, why_len, "map %s: comb has no such map; ", name);
			ok = false;
			continue;
		}
		struct comb_map *cm = comb_object_map(s->cobj[e], (size_t)index);
		bool percpu = is_percpu_type(bpf_map__type(km));
		struct map_walker kw = { kernel_next_key, kernel_lookup, (void *)(long)bpf_map__fd(km) };
		struct map_walker cw = { comb_next_key, comb_lookup, cm };
		struct map_dump kd, cd;
		size_t ks = bpf_map__key_size(km), vs = bpf_map__value_size(km);
		int krc = dump_map(&kw, ks, vs, percpu, (size_t)s->cpus, &kd);
		int crc = cm ? dump_map(&cw, ks, vs, percpu, (size_t)s->cpus, &cd) : -ENOENT;
		if (krc || crc) {
			note(why, why_len, "map %s: cannot read it (kernel %s, comb %s); ", name,
			     strerror(-krc), strerror(-crc));
			ok = false;
		} else if (!same_dump(name, &kd, &cd, why, why_len)) {
			ok = false;
		}
		if (!krc)
			map_dump_free(&kd);
		if (!crc)
			map_dump_free(&cd);
	}
	if (kernel_maps != comb_object_map_count(s->cobj[e])) {
		note(why, why_len, "libbpf made %zu maps, comb %zu; ", kernel_maps,
		     comb_object_map_count(s->cobj[e]));
		ok = false;
	}
	return ok;
}

struct run_output {
	uint32_t retval;
	uint8_t data[DATA_OUT_SIZE];
	size_t len;
};

static int kernel_run(struct bpf_program *kp, const struct packet *pk, struct run_output *out)
{
	out->len = sizeof(out->data);
	return kernel_bpf_test_run_packet(bpf_program__fd(kp), pk->data, pk->len, out->data, &out->len, &out->retval);
}

static int comb_run(const struct comb_prog *prog, uint32_t type, enum comb_engine engine,
		    const struct packet *pk, struct run_output *out, char *why, size_t why_len)
{
	struct comb_test_run_opts opts = {
		.sz = sizeof(opts), .prog_type = type, .engine = engine,
		.data_in = pk->data, .data_size_in = pk->len,
		.data_out = out->data, .data_size_out = sizeof(out->data), .repeat = 1,
	};
	int rc = comb_prog_test_run(prog, &opts);
	if (rc) {
		note(why, why_len, "comb %s: test run failed (%s): insn %ld: %s; ",
		     comb_engine_name(engine), strerror(-rc), opts.error.insn, opts.error.message);
		return rc;
	}
	out->retval = (uint32_t)opts.retval;
	out->len = opts.data_size_out;
	return 0;
}

/* The error comb's test run gives for a packet (0 if it runs it). */
static int comb_refusal(const struct comb_prog *prog, uint32_t type, enum comb_engine engine,
			const struct packet *pk)
{
	static struct run_output scratch;
	struct comb_test_run_opts opts = {
		.sz = sizeof(opts), .prog_type = type, .engine = engine,
		.data_in = pk->data, .data_size_in = pk->len,
		.data_out = scratch.data, .data_size_out = sizeof(scratch.data), .repeat = 1,
	};
	return comb_prog_test_run(prog, &opts);
}

static bool same_output(const struct run_output *k, const struct run_output *c,
			enum comb_engine engine, char *why, size_t why_len)
{
	char kh[40], ch[40];
	if (k->retval != c->retval) {
		note(why, why_len, "%s: r0 kernel %u comb %u; ", comb_engine_name(engine), k->retval,
		     c->retval);
		return false;
	}
	if (k->len != c->len) {
		note(why, why_len, "%s: data_out kernel %zu bytes, comb %zu; ",
		     comb_engine_name(engine), k->len, c->len);
		return false;
	}
	size_t at = 0;
	while (at < k->len && k->data[at] == c->data[at])
		at++;
	if (at == k->len)
		return true;
	size_t show = k->len - at < 16 ? k->len - at : 16;
	hex_into(kh, sizeof(kh), k->data + at, show);
	hex_into(ch, sizeof(ch), c->data + at, show);
	note(why, why_len, "%s: data_out (%zu bytes) differs from byte %zu: kernel %s comb %s; ",
	     comb_engine_name(engine), k->len, at, kh, ch);
	return false;
}

/* One packet through one program everywhere; then compare everything. */
static void test_packet(struct subject *s, struct bpf_program *kp, const struct packet *pk)
{
	char test[256], why[2048] = "";
	const char *prog_name = bpf_program__name(kp);
	snprintf(test, sizeof(test), "%s/%s/%s", s->short_name, prog_name, pk->name);
	struct run_output kout, cout;
	/* A packet the kernel refuses (an IPv4 EtherType without a whole IPv4
	 * header, for skb types) must be refused by comb with the same error. */
	int krc = kernel_run(kp, pk, &kout);
	bool ok = true;
	for (int e = 0; e < ENGINES; e++) {
		int index = comb_object_find_prog(s->cobj[e], prog_name);
		struct comb_object_prog_info info;
		const struct comb_prog *cp = index < 0 ? NULL : comb_object_prog(s->cobj[e], (size_t)index);
		if (!cp || comb_object_prog_info(s->cobj[e], (size_t)index, &info)) {
			note(why, sizeof(why), "comb has no program %s; ", prog_name);
			ok = false;
			break;
		}
		if (info.prog_type != (uint32_t)bpf_program__type(kp)) {
			note(why, sizeof(why), "program type comb %u libbpf %u; ", info.prog_type,
			     (unsigned)bpf_program__type(kp));
			ok = false;
		}
		if (krc) {
			int crc = comb_refusal(cp, info.prog_type, engines[e], pk);
			if (crc != krc) {
				note(why, sizeof(why), "%s: the kernel refuses the packet (%s), comb %s; ",
				     comb_engine_name(engines[e]), strerror(-krc),
				     crc ? strerror(-crc) : "runs it");
				ok = false;
			}
		} else if (comb_run(cp, info.prog_type, engines[e], pk, &cout, why, sizeof(why)) ||
			   !same_output(&kout, &cout, engines[e], why, sizeof(why))) {
			ok = false;
		}
		if (!compare_maps(s, e, why, sizeof(why))) {
			note(why, sizeof(why), "(after the run with %s) ", comb_engine_name(engines[e]));
			ok = false;
		}
	}
	if (tally.verbose && ok && !krc)
		printf("     r0 %u, %zu bytes out\n", kout.retval, kout.len);
	kernel_tally_report(&tally, ok, test, why);
}

static void test_object(const char *path, const struct packet *packets, size_t packet_count)
{
	struct subject s;
	char why[1024] = "";
	if (subject_open(&s, path, why, sizeof(why))) {
		kernel_tally_report(&tally, false, path, why);
		subject_close(&s);
		return;
	}
	/* The initial state (global data images, empty maps) must agree too. */
	bool ok = true;
	for (int e = 0; e < ENGINES; e++)
		ok = compare_maps(&s, e, why, sizeof(why)) && ok;
	char test[300];
	snprintf(test, sizeof(test), "%s/maps-after-load", s.short_name);
	kernel_tally_report(&tally, ok, test, why);
	struct bpf_program *kp;
	bpf_object__for_each_program(kp, s.kobj)
		for (size_t i = 0; i < packet_count; i++)
			test_packet(&s, kp, &packets[i]);
	subject_close(&s);
}

/* ---- main ---------------------------------------------------------------- */

/* 0 when bpf() can load a trivial socket filter; the errno otherwise. */
static int probe_bpf(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "probe", "GPL", insns, 2, NULL);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!tally.verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0)
			tally.verbose = true;
		else
			dir = argv[i];
	}
	if (!dir) {
		fprintf(stderr, "usage: kernel-progs [-v] DIR  (DIR holds run_*.bpf.o)\n");
		return 2;
	}
	libbpf_set_print(silent_print);
	int rc = probe_bpf();
	if (rc == -EPERM || rc == -ENOSYS || rc == -EACCES) {
		printf("kernel-progs: skipped: bpf() not permitted here (%s)\n", strerror(-rc));
		printf("kernel-progs: 0 passed, 0 failed\n");
		return 0;
	}
	char pattern[4096];
	snprintf(pattern, sizeof(pattern), "%s/run_*.bpf.o", dir);
	glob_t g;
	if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
		printf("FAIL no objects match %s (build them with make)\n", pattern);
		printf("kernel-progs: 0 passed, 1 failed\n");
		return 1;
	}
	static struct packet packets[MAX_PACKETS];
	size_t packet_count = build_packets(packets);
	for (size_t i = 0; i < g.gl_pathc; i++)
		test_object(g.gl_pathv[i], packets, packet_count);
	globfree(&g);
	printf("kernel-progs: %d passed, %d failed\n", tally.passed, tally.failed);
	return tally.failed ? 1 : 0;
}
