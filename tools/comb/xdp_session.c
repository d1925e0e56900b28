/* tools/comb/xdp_session.c - one `comb xdp` run: object, program, runner,
 * outputs, counts (the contract is tools/comb/xdp_session.h).
 *
 * Opening loads the object with its maps reused from or pinned in
 * --pin-maps DIR (LIBBPF_PIN_BY_NAME maps under comb's pin directory
 * otherwise, as libbpf-based tools do), picks the XDP program and makes a
 * runner on the JIT (the checked engine with --no-verify). Every packet then
 * goes through xdp_session_packet(): run, count packets and bytes per
 * verdict (the bytes as the program left them), write the packet to its
 * verdict's pcap (REDIRECT: one pcap per target in --out-redirect DIR, made
 * on first use; a devmap broadcast: a copy in the pcap of every entry of the
 * map, less the ingress interface with BPF_F_EXCLUDE_INGRESS) and its
 * --verdicts line. xdp_session_batch() does the same for a batch of
 * packets run by comb_xdp_run_batch() (the pcap source). A packet the program cannot run on
 * (shorter than an Ethernet header, a failed checked run) is counted as
 * ABORTED with a message naming it. Packets/s is measured over the wall time
 * from the first packet to the last, outputs included.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "xdp_session.h"

#define PROG_TYPE_XDP 6 /* BPF_PROG_TYPE_XDP (linux/bpf.h clashes with pcap's bpf.h) */
#define MAX_REDIRECT_TARGETS 4096
#define MAX_PRINTED_ERRORS 20
#define PCAP_SNAPLEN 262144
#define MAX_BROADCAST 1024
#define XDP_BROADCAST_FLAG (1ull << 3) /* BPF_F_BROADCAST */

struct count {
	uint64_t packets, bytes;
};

struct redirect_output {
	char name[96];      /* ifindex-N, MAPNAME-KEY, none */
	struct comb_xdp_target target;
	pcap_dumper_t *dumper;
	struct count count;
};

struct xdp_session {
	const struct xdp_cli *cli;
	const char *source;          /* for messages: the pcap or the interface */
	struct cli_object obj;
	size_t prog_index;
	struct comb_prog *prog;
	enum comb_engine engine;
	struct comb_fib *fib;
	struct comb_xdp *xdp;
	struct comb_xdp_opts xdp_opts;
	pcap_t *dead;                /* the pcap handle outputs are written through */
	pcap_dumper_t *out[COMB_XDP_ACTION_COUNT];
	const char *out_path[COMB_XDP_ACTION_COUNT];
	struct redirect_output *redirects;
	size_t redirect_count;
	FILE *verdicts;
	struct xdp_records *records;
	struct comb_xdp_result result;
	struct comb_xdp_result batch[COMB_XDP_BATCH_MAX]; /* xdp_session_batch's results */
	struct count by_action[COMB_XDP_ACTION_COUNT];
	uint64_t packets, bytes_in, errors;
	struct timespec first, last;
	bool output_failed;
};

static double seconds_between(struct timespec a, struct timespec b)
{
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

/* ---- opening ---- */

static int load_object(struct xdp_session *s)
{
	const struct xdp_cli *cli = s->cli;
	struct cli_buffer buf;
	int rc = cli_read_file(cli->object, &buf);
	if (rc)
		return rc;
	rc = cli_open_object(cli->object, &buf, false, &s->obj);
	cli_buffer_free(&buf);
	if (rc)
		return rc;
	comb_object_set_pin_by_name(s->obj.obj, true);
	if (cli->pin_maps && (rc = comb_object_set_pin_dir(s->obj.obj, cli->pin_maps)))
		return cli_error("%s: --pin-maps %s: %s", cli->object, cli->pin_maps, strerror(-rc)), rc;
	/* --no-verify: loaded unverified, and the checked engine runs it. */
	return cli_load_opened_object(cli->object, &s->obj, !cli->no_verify);
}

static void list_programs(const struct comb_object *obj, char *out, size_t len)
{
	size_t used = 0;
	out[0] = 0;
	for (size_t i = 0; i < comb_object_prog_count(obj) && used < len; i++) {
		struct comb_object_prog_info info;
		comb_object_prog_info(obj, i, &info);
		used += (size_t)snprintf(out + used, len - used, "%s%s (section %s)", i ? ", " : "", info.name,
					 info.section);
	}
}

/* --prog NAME, or the only XDP program of the object. */
static int pick_program(struct xdp_session *s)
{
	const struct comb_object *obj = s->obj.obj;
	const char *path = s->cli->object;
	char names[1024];
	list_programs(obj, names, sizeof(names));
	struct comb_object_prog_info info;
	if (s->cli->prog_name) {
		int index = comb_object_find_prog(obj, s->cli->prog_name);
		if (index < 0)
			return cli_error("%s: no program %s (programs: %s)", path, s->cli->prog_name,
					 names[0] ? names : "none"), -ENOENT;
		comb_object_prog_info(obj, (size_t)index, &info);
		if (info.prog_type != PROG_TYPE_XDP)
			return cli_error("%s: program %s (section %s) is not an XDP program", path, info.name,
					 info.section), -EINVAL;
		s->prog_index = (size_t)index;
		return 0;
	}
	size_t found = 0;
	for (size_t i = 0; i < comb_object_prog_count(obj); i++) {
		comb_object_prog_info(obj, i, &info);
		if (info.prog_type == PROG_TYPE_XDP && found++ == 0)
			s->prog_index = i;
	}
	if (found == 0)
		return cli_error("%s: no XDP program in the object (programs: %s)", path, names[0] ? names : "none"),
		       -ENOENT;
	if (found > 1)
		return cli_error("%s: %zu XDP programs; choose one with --prog (programs: %s)", path, found, names),
		       -EINVAL;
	return 0;
}

static int open_runner(struct xdp_session *s)
{
	const struct xdp_cli *cli = s->cli;
	s->engine = cli->engine != COMB_ENGINE_DEFAULT ? cli->engine
		    : cli->no_verify ? COMB_ENGINE_CHECKED : COMB_ENGINE_JIT;
	if (cli->fib) {
		char err[512] = "";
		int rc = comb_fib_load(cli->fib, &s->fib, err, sizeof(err));
		if (rc)
			return cli_error("--fib %s: %s", cli->fib, err[0] ? err : strerror(-rc)), rc;
	}
	s->prog = comb_object_prog(s->obj.obj, s->prog_index);
	s->xdp_opts = (struct comb_xdp_opts){ .sz = sizeof(s->xdp_opts), .engine = s->engine, .fib = s->fib };
	int rc = comb_xdp_new(s->prog, &s->xdp_opts, &s->xdp);
	if (rc)
		cli_error("%s: cannot run program %s as XDP: %s", cli->object, comb_prog_name(s->prog), strerror(-rc));
	return rc;
}

static int open_dumper(struct xdp_session *s, const char *path, pcap_dumper_t **out)
{
	*out = pcap_dump_open(s->dead, path);
	if (!*out)
		return cli_error("%s: cannot write: %s", path, pcap_geterr(s->dead)), -EIO;
	return 0;
}

static int open_outputs(struct xdp_session *s)
{
	const struct xdp_cli *cli = s->cli;
	s->dead = pcap_open_dead(DLT_EN10MB, PCAP_SNAPLEN);
	if (!s->dead)
		return cli_error("cannot make a pcap writer"), -ENOMEM;
	s->out_path[COMB_XDP_ABORTED] = cli->out_aborted;
	s->out_path[COMB_XDP_DROP] = cli->out_drop;
	s->out_path[COMB_XDP_PASS] = cli->out_pass;
	s->out_path[COMB_XDP_TX] = cli->out_tx;
	for (int a = 0; a < COMB_XDP_ACTION_COUNT; a++) {
		int rc = s->out_path[a] ? open_dumper(s, s->out_path[a], &s->out[a]) : 0;
		if (rc)
			return rc;
	}
	if (cli->out_redirect && mkdir(cli->out_redirect, 0755) && errno != EEXIST)
		return cli_error("--out-redirect %s: %s", cli->out_redirect, strerror(errno)), -errno;
	if (cli->verdicts && !(s->verdicts = fopen(cli->verdicts, "w")))
		return cli_error("--verdicts %s: %s", cli->verdicts, strerror(errno)), -errno;
	return 0;
}

int xdp_session_open(const struct xdp_cli *cli, struct xdp_session **out)
{
	*out = NULL;
	struct xdp_session *s = calloc(1, sizeof(*s));
	if (!s)
		return cli_error("out of memory"), -ENOMEM;
	s->cli = cli;
	s->source = cli->pcap_in ? cli->pcap_in : cli->iface ? cli->iface : cli->tap ? cli->tap : cli->xsk;
	if (!s->source)
		s->source = "input";
	int rc = load_object(s);
	if (!rc)
		rc = pick_program(s);
	if (!rc)
		rc = open_runner(s);
	if (!rc && cli->records)
		rc = xdp_records_open(cli->object, s->obj.obj, cli->records, cli->json, &s->records);
	if (!rc)
		rc = open_outputs(s);
	if (rc) {
		s->output_failed = true; /* nothing to summarize */
		s->packets = 0;
		xdp_session_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void xdp_session_set_ingress(struct xdp_session *s, uint32_t ifindex, uint32_t rx_queue)
{
	if (s->xdp_opts.ingress_ifindex == ifindex && s->xdp_opts.rx_queue_index == rx_queue)
		return;
	s->xdp_opts.ingress_ifindex = ifindex;
	s->xdp_opts.rx_queue_index = rx_queue;
	comb_xdp_set_ingress(s->xdp, ifindex, rx_queue);
}

/* ---- packets ---- */

static void target_name(const struct comb_xdp_target *t, char *out, size_t len)
{
	struct comb_map_info info = { .name = "map" };
	switch (t->kind) {
	case COMB_XDP_TARGET_IFINDEX:
		snprintf(out, len, "ifindex-%u", t->ifindex);
		return;
	case COMB_XDP_TARGET_DEVMAP:
	case COMB_XDP_TARGET_CPUMAP:
	case COMB_XDP_TARGET_XSKMAP:
		if (t->map)
			comb_map_get_info(t->map, &info);
		snprintf(out, len, "%s-%u", info.name, t->key);
		return;
	case COMB_XDP_TARGET_NONE:
		break;
	}
	snprintf(out, len, "none");
}

static bool same_target(const struct comb_xdp_target *a, const struct comb_xdp_target *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == COMB_XDP_TARGET_IFINDEX)
		return a->ifindex == b->ifindex;
	return a->map == b->map && a->key == b->key;
}

/* The output of a redirect target, made on first use. NULL after an error. */
static struct redirect_output *redirect_output_for(struct xdp_session *s, const struct comb_xdp_target *t)
{
	for (size_t i = 0; i < s->redirect_count; i++)
		if (same_target(&s->redirects[i].target, t))
			return &s->redirects[i];
	if (s->redirect_count >= MAX_REDIRECT_TARGETS) {
		cli_error("%s: more than %d redirect targets", s->source, MAX_REDIRECT_TARGETS);
		return NULL;
	}
	struct redirect_output *more = realloc(s->redirects, (s->redirect_count + 1) * sizeof(*more));
	if (!more)
		return NULL;
	s->redirects = more;
	struct redirect_output *r = &more[s->redirect_count];
	memset(r, 0, sizeof(*r));
	r->target = *t;
	target_name(t, r->name, sizeof(r->name));
	if (s->cli->out_redirect) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s.pcap", s->cli->out_redirect, r->name);
		if (open_dumper(s, path, &r->dumper))
			return NULL;
	}
	s->redirect_count++;
	return r;
}

static void report_packet_error(struct xdp_session *s, uint64_t index, const struct comb_xdp_result *res, int rc)
{
	s->errors++;
	if (s->errors > MAX_PRINTED_ERRORS)
		return;
	const char *why = res->error.message[0] ? res->error.message : strerror(-rc);
	if (res->error.insn >= 0)
		fprintf(stderr, "comb: %s: packet %llu: insn %ld: %s: counted as ABORTED\n", s->source,
			(unsigned long long)index, res->error.insn, why);
	else
		fprintf(stderr, "comb: %s: packet %llu: %s: counted as ABORTED\n", s->source,
			(unsigned long long)index, why);
	if (s->errors == MAX_PRINTED_ERRORS)
		fprintf(stderr, "comb: %s: further packet errors are only counted\n", s->source);
}

/* One packet to one redirect target's output (made on first use). */
static int write_redirect(struct xdp_session *s, const struct comb_xdp_target *t, const struct pcap_pkthdr *hdr,
			  const uint8_t *data)
{
	struct redirect_output *r = redirect_output_for(s, t);
	if (!r)
		return -EIO;
	r->count.packets++;
	r->count.bytes += hdr->caplen;
	if (r->dumper)
		pcap_dump((u_char *)r->dumper, hdr, data);
	return 0;
}

/* A broadcast through a devmap: a copy to the output of every entry, but
 * the ingress interface with BPF_F_EXCLUDE_INGRESS (as the kernel clones
 * it to every device of the map). */
static int write_broadcast(struct xdp_session *s, const struct comb_xdp_target *t, const struct pcap_pkthdr *hdr,
			   const uint8_t *data)
{
	uint32_t ingress = s->xdp_opts.ingress_ifindex ? s->xdp_opts.ingress_ifindex : 1;
	uint32_t ifindexes[MAX_BROADCAST], keys[MAX_BROADCAST];
	int n = comb_xdp_broadcast_targets(t, ingress, ifindexes, keys, MAX_BROADCAST);
	if (n < 0)
		return cli_error("%s: a broadcast redirect without a devmap", s->source), -EIO;
	if (n > MAX_BROADCAST)
		return cli_error("%s: a broadcast to more than %d interfaces", s->source, MAX_BROADCAST), -EIO;
	for (int i = 0; i < n; i++) {
		struct comb_xdp_target one = { .kind = COMB_XDP_TARGET_DEVMAP, .ifindex = ifindexes[i], .map = t->map,
					       .key = keys[i] };
		if (write_redirect(s, &one, hdr, data))
			return -EIO;
	}
	return 0;
}

static int write_outputs(struct xdp_session *s, uint64_t index, const struct comb_xdp_result *res,
			 const uint8_t *data, size_t len, size_t orig_len, size_t in_len, struct timeval ts)
{
	/* A packet captured short keeps its missing tail in len. */
	struct pcap_pkthdr hdr = { .ts = ts, .caplen = (bpf_u_int32)len,
				   .len = (bpf_u_int32)(len + (orig_len > in_len ? orig_len - in_len : 0)) };
	if (res->action == COMB_XDP_REDIRECT && (res->target.flags & XDP_BROADCAST_FLAG)) {
		if (write_broadcast(s, &res->target, &hdr, data))
			return -EIO;
	} else if (res->action == COMB_XDP_REDIRECT) {
		if (write_redirect(s, &res->target, &hdr, data))
			return -EIO;
	} else if (s->out[res->action]) {
		pcap_dump((u_char *)s->out[res->action], &hdr, data);
	}
	if (s->verdicts && fprintf(s->verdicts, "%llu %s %zu\n", (unsigned long long)index,
				   comb_xdp_action_name(res->action), len) < 0)
		return cli_error("--verdicts %s: %s", s->cli->verdicts, strerror(errno)), -EIO;
	return 0;
}

int xdp_session_packet(struct xdp_session *s, const uint8_t *pkt, size_t len, struct timeval ts,
		       const struct comb_xdp_result **out)
{
	return xdp_session_packet_orig(s, pkt, len, len, ts, out);
}

/* Count one packet's verdict and write its outputs; rc is its run's. */
static int account_packet(struct xdp_session *s, uint64_t index, const uint8_t *pkt, size_t len, size_t orig_len,
			  struct timeval ts, struct comb_xdp_result *res, int rc)
{
	s->bytes_in += len;
	const uint8_t *data = res->data;
	size_t out_len = res->len;
	if (rc) {
		report_packet_error(s, index, res, rc);
		res->action = COMB_XDP_ABORTED;
		if (!data) { /* never ran: the packet as it came */
			data = pkt;
			out_len = len;
			res->data = pkt;
			res->len = len;
		}
	}
	s->by_action[res->action].packets++;
	s->by_action[res->action].bytes += out_len;
	rc = write_outputs(s, index, res, data, out_len, orig_len, len, ts);
	if (rc)
		s->output_failed = true;
	return rc;
}

int xdp_session_packet_orig(struct xdp_session *s, const uint8_t *pkt, size_t len, size_t orig_len,
			    struct timeval ts, const struct comb_xdp_result **out)
{
	uint64_t index = s->packets++;
	if (index == 0)
		clock_gettime(CLOCK_MONOTONIC, &s->first);
	int rc = comb_xdp_run(s->xdp, pkt, len, &s->result);
	if (out)
		*out = &s->result;
	rc = account_packet(s, index, pkt, len, orig_len, ts, &s->result, rc);
	clock_gettime(CLOCK_MONOTONIC, &s->last);
	return rc;
}

int xdp_session_batch(struct xdp_session *s, const struct xdp_session_packet *pkts, size_t n)
{
	const void *data[COMB_XDP_BATCH_MAX];
	size_t lens[COMB_XDP_BATCH_MAX];
	int rcs[COMB_XDP_BATCH_MAX];
	if (n > COMB_XDP_BATCH_MAX)
		return -EINVAL;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		data[i] = pkts[i].data, lens[i] = pkts[i].len;
	if (s->packets == 0)
		clock_gettime(CLOCK_MONOTONIC, &s->first);
	comb_xdp_run_batch(s->xdp, data, lens, n, s->batch, rcs);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		uint64_t index = s->packets++;
		rc = account_packet(s, index, pkts[i].data, pkts[i].len, pkts[i].orig_len, pkts[i].ts, &s->batch[i],
				    rcs[i]);
	}
	clock_gettime(CLOCK_MONOTONIC, &s->last);
	return rc;
}

void xdp_session_poll_records(struct xdp_session *s)
{
	xdp_records_poll(s->records);
}

/* ---- summary ---- */

static void print_text_summary(const struct xdp_session *s, double secs)
{
	printf("%s: program %s (%s engine): %llu packets, %llu bytes", s->source, comb_prog_name(s->prog),
	       comb_engine_name(s->engine), (unsigned long long)s->packets, (unsigned long long)s->bytes_in);
	if (secs > 0)
		printf(" in %.6f s: %.0f packets/s\n", secs, (double)s->packets / secs);
	else
		printf("\n");
	for (int a = 0; a < COMB_XDP_ACTION_COUNT; a++)
		printf("  %-9s %10llu packets %12llu bytes\n", comb_xdp_action_name((uint32_t)a),
		       (unsigned long long)s->by_action[a].packets, (unsigned long long)s->by_action[a].bytes);
	for (size_t i = 0; i < s->redirect_count; i++)
		printf("  -> %-20s %8llu packets %12llu bytes\n", s->redirects[i].name,
		       (unsigned long long)s->redirects[i].count.packets,
		       (unsigned long long)s->redirects[i].count.bytes);
	if (s->errors)
		printf("  errors    %10llu packets (counted as ABORTED)\n", (unsigned long long)s->errors);
}

static void print_json_summary(const struct xdp_session *s, double secs)
{
	printf("{\"object\": ");
	cli_print_json_string(stdout, s->cli->object);
	printf(", \"program\": ");
	cli_print_json_string(stdout, comb_prog_name(s->prog));
	printf(", \"engine\": \"%s\", \"source\": ", comb_engine_name(s->engine));
	cli_print_json_string(stdout, s->source);
	printf(", \"packets\": %llu, \"bytes\": %llu, \"errors\": %llu, \"seconds\": %.9f, "
	       "\"packets_per_second\": %.0f, \"verdicts\": {",
	       (unsigned long long)s->packets, (unsigned long long)s->bytes_in, (unsigned long long)s->errors, secs,
	       secs > 0 ? (double)s->packets / secs : 0.0);
	for (int a = 0; a < COMB_XDP_ACTION_COUNT; a++)
		printf("%s\"%s\": {\"packets\": %llu, \"bytes\": %llu}", a ? ", " : "",
		       comb_xdp_action_name((uint32_t)a), (unsigned long long)s->by_action[a].packets,
		       (unsigned long long)s->by_action[a].bytes);
	printf("}, \"redirect\": [");
	for (size_t i = 0; i < s->redirect_count; i++)
		printf("%s{\"target\": \"%s\", \"packets\": %llu, \"bytes\": %llu}", i ? ", " : "",
		       s->redirects[i].name, (unsigned long long)s->redirects[i].count.packets,
		       (unsigned long long)s->redirects[i].count.bytes);
	printf("]}\n");
}

static bool close_dumper(pcap_dumper_t *d)
{
	if (!d)
		return true;
	bool ok = pcap_dump_flush(d) == 0 && !ferror(pcap_dump_file(d));
	pcap_dump_close(d);
	return ok;
}

int xdp_session_close(struct xdp_session *s)
{
	if (!s)
		return CLI_OK;
	bool ok = !s->output_failed;
	xdp_records_poll(s->records);
	for (int a = 0; a < COMB_XDP_ACTION_COUNT; a++)
		if (!close_dumper(s->out[a]) && ok)
			ok = !cli_error("%s: cannot write: %s", s->out_path[a], strerror(errno));
	for (size_t i = 0; i < s->redirect_count; i++)
		if (!close_dumper(s->redirects[i].dumper) && ok)
			ok = !cli_error("%s/%s.pcap: cannot write", s->cli->out_redirect, s->redirects[i].name);
	if (s->verdicts && fclose(s->verdicts) != 0 && ok)
		ok = !cli_error("--verdicts %s: %s", s->cli->verdicts, strerror(errno));
	if (s->xdp && (ok || s->packets)) {
		double secs = s->packets ? seconds_between(s->first, s->last) : 0;
		if (s->cli->json)
			print_json_summary(s, secs);
		else
			print_text_summary(s, secs);
	}
	fflush(stdout);
	xdp_records_close(s->records);
	free(s->redirects);
	if (s->dead)
		pcap_close(s->dead);
	comb_xdp_free(s->xdp);
	if (s->fib)
		comb_fib_free(s->fib);
	cli_object_close(&s->obj);
	free(s);
	return ok ? CLI_OK : CLI_ERROR;
}
