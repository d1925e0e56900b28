/* tools/comb/cmd_xdp.c - `comb xdp FILE.o --pcap IN.pcap ...`: run an XDP
 * program over recorded traffic (or, with --iface/--tap/--xsk, hand the
 * session to the live sources of cmd_xdp_live.c).
 *
 * The command line becomes a struct xdp_cli; the pcap source reads IN.pcap
 * (pcap or pcapng, through libpcap) record by record and feeds each packet to
 * the session with its capture time, in batches of COMB_XDP_BATCH_MAX
 * (comb_xdp_run_batch). Only Ethernet captures are accepted (an
 * XDP program sees Ethernet frames). A capture that turns out corrupted or
 * truncated part-way stops the run with an error naming the file and the
 * packet index, after the packets before it went through and were written:
 * nothing already read is lost.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "xdp_session.h"

/* cmd_xdp_live.c may be left out of a build. */
#pragma weak xdp_live_run

static int parse_duration(const char *text, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || *end || v < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

/* One option with a value; 1 matched, 0 not this option, <0 usage error. */
static int string_option(int argc, char **argv, int *i, const char *name, const char **dst)
{
	int m = cli_option_value(argc, argv, i, name, dst);
	if (m < 0)
		return cli_usage_error("xdp", "%s needs a value", name), -1;
	return m;
}

static int parse_value_option(int argc, char **argv, int *i, struct xdp_cli *c)
{
	static const struct {
		const char *name;
		size_t offset;
	} strings[] = {
		{ "--prog", offsetof(struct xdp_cli, prog_name) },
		{ "--pcap", offsetof(struct xdp_cli, pcap_in) },
		{ "--out-pass", offsetof(struct xdp_cli, out_pass) },
		{ "--out-tx", offsetof(struct xdp_cli, out_tx) },
		{ "--out-drop", offsetof(struct xdp_cli, out_drop) },
		{ "--out-aborted", offsetof(struct xdp_cli, out_aborted) },
		{ "--out-redirect", offsetof(struct xdp_cli, out_redirect) },
		{ "--verdicts", offsetof(struct xdp_cli, verdicts) },
		{ "--pin-maps", offsetof(struct xdp_cli, pin_maps) },
		{ "--fib", offsetof(struct xdp_cli, fib) },
		{ "--iface", offsetof(struct xdp_cli, iface) },
		{ "--bridge", offsetof(struct xdp_cli, bridge) },
		{ "--tap", offsetof(struct xdp_cli, tap) },
		{ "--xsk", offsetof(struct xdp_cli, xsk) },
		{ "--records", offsetof(struct xdp_cli, records) },
	};
	for (size_t k = 0; k < sizeof(strings) / sizeof(strings[0]); k++) {
		int m = string_option(argc, argv, i, strings[k].name, (const char **)((char *)c + strings[k].offset));
		if (m)
			return m;
	}
	const char *v;
	int m;
	uint64_t n;
	if ((m = string_option(argc, argv, i, "--engine", &v)) > 0 && cli_parse_engine(v, &c->engine))
		return cli_usage_error("xdp", "unknown engine '%s' (interp, checked or jit)", v), -1;
	if (m)
		return m;
	if ((m = string_option(argc, argv, i, "--count", &v)) > 0) {
		if (cli_parse_count(v, 1, UINT64_MAX, &c->max_packets))
			return cli_usage_error("xdp", "--count %s: expected a number of packets >= 1", v), -1;
		return 1;
	}
	if (m)
		return m;
	if ((m = string_option(argc, argv, i, "--queue", &v)) > 0) {
		if (cli_parse_count(v, 0, UINT32_MAX, &n))
			return cli_usage_error("xdp", "--queue %s: expected a queue number", v), -1;
		c->queue = (uint32_t)n;
		return 1;
	}
	if (m)
		return m;
	if ((m = string_option(argc, argv, i, "--duration", &v)) > 0 && parse_duration(v, &c->duration_s))
		return cli_usage_error("xdp", "--duration %s: expected seconds", v), -1;
	return m;
}

static int check_sources(const struct xdp_cli *c)
{
	/* A TAP next to --iface or --xsk is the inline mode (cmd_xdp_live.c),
	 * not a second source. */
	int sources = !!c->pcap_in + !!(c->iface || c->tap || c->xsk);
	if (!c->object)
		return cli_usage_error("xdp", "missing the object FILE.o");
	if (sources == 0)
		return cli_usage_error("xdp", "missing a packet source: --pcap, --iface, --tap or --xsk");
	if (sources > 1)
		return cli_usage_error("xdp", "choose one packet source of --pcap, --iface, --tap and --xsk");
	if (c->bridge && !c->iface)
		return cli_usage_error("xdp", "--bridge works with --iface");
	if (c->no_verify && c->engine != COMB_ENGINE_DEFAULT && c->engine != COMB_ENGINE_CHECKED)
		return cli_usage_error("xdp", "--no-verify runs the checked engine; --engine %s would trust an "
				       "unverified program", cli_engine_name(c->engine));
	return CLI_OK;
}

static int parse_args(int argc, char **argv, struct xdp_cli *c)
{
	*c = (struct xdp_cli){ 0 };
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			c->json = true;
			continue;
		}
		if (!strcmp(argv[i], "--no-verify")) {
			c->no_verify = true;
			continue;
		}
		int m = parse_value_option(argc, argv, &i, c);
		if (m < 0)
			return CLI_USAGE;
		if (m > 0)
			continue;
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("xdp", "unknown option '%s'", argv[i]);
		if (c->object)
			return cli_usage_error("xdp", "unexpected argument '%s'", argv[i]);
		c->object = argv[i];
	}
	return check_sources(c);
}

/* ---- the pcap source ---- */

static int open_capture(const char *path, pcap_t **out)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_open_offline(path, errbuf);
	if (!p)
		return cli_error("%s: cannot read the capture: %s", path, errbuf);
	int link = pcap_datalink(p);
	if (link != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(link);
		pcap_close(p);
		return cli_error("%s: link type %s (%d) is not Ethernet: XDP programs see Ethernet frames, so "
				 "comb xdp reads Ethernet (DLT_EN10MB) captures only", path, name ? name : "unknown",
				 link);
	}
	*out = p;
	return CLI_OK;
}

/* Records are read into a batch (libpcap reuses its buffer, so each is
 * copied into a slot of its own) and run COMB_XDP_BATCH_MAX at a time. */
struct capture_batch {
	struct xdp_session_packet pkts[COMB_XDP_BATCH_MAX];
	uint8_t *buf[COMB_XDP_BATCH_MAX];
	size_t cap[COMB_XDP_BATCH_MAX];
	size_t n;
};

static int batch_add(struct capture_batch *b, const struct pcap_pkthdr *hdr, const u_char *data)
{
	size_t i = b->n;
	if (b->cap[i] < hdr->caplen) {
		uint8_t *p = realloc(b->buf[i], hdr->caplen);
		if (!p)
			return cli_error("out of memory reading a packet of %u bytes", hdr->caplen), -ENOMEM;
		b->buf[i] = p;
		b->cap[i] = hdr->caplen;
	}
	if (hdr->caplen)
		memcpy(b->buf[i], data, hdr->caplen);
	b->pkts[i] = (struct xdp_session_packet){ b->buf[i], hdr->caplen, hdr->len, hdr->ts };
	b->n++;
	return 0;
}

static int batch_flush(struct capture_batch *b, struct xdp_session *s, const struct xdp_cli *c)
{
	int rc = b->n ? xdp_session_batch(s, b->pkts, b->n) : 0;
	b->n = 0;
	if (c->records)
		xdp_session_poll_records(s);
	return rc;
}

static void batch_free(struct capture_batch *b)
{
	for (size_t i = 0; i < COMB_XDP_BATCH_MAX; i++)
		free(b->buf[i]);
}

/* Feed every record to the session; CLI_ERROR when the capture breaks off. */
static int replay_records(pcap_t *p, struct xdp_session *s, const struct xdp_cli *c, struct capture_batch *b)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t index = 0;
	int rc = 1;
	while ((!c->max_packets || index < c->max_packets) && (rc = pcap_next_ex(p, &hdr, &data)) == 1) {
		if (batch_add(b, hdr, data))
			return CLI_ERROR;
		/* With --records, records are printed after every packet, as a
		 * ring buffer sized for one packet's records may need. */
		if (b->n == (c->records ? 1 : COMB_XDP_BATCH_MAX) && batch_flush(b, s, c))
			return CLI_ERROR;
		index++;
	}
	if (batch_flush(b, s, c))
		return CLI_ERROR;
	if (c->max_packets && index >= c->max_packets)
		return CLI_OK;
	if (rc == PCAP_ERROR)
		return cli_error("%s: packet %llu: %s (the %llu packets before it were processed)", c->pcap_in,
				 (unsigned long long)index, pcap_geterr(p), (unsigned long long)index);
	return CLI_OK;
}

static int replay_capture(pcap_t *p, struct xdp_session *s, const struct xdp_cli *c)
{
	struct capture_batch *b = calloc(1, sizeof(*b));
	if (!b)
		return cli_error("out of memory"), CLI_ERROR;
	int status = replay_records(p, s, c, b);
	batch_free(b);
	free(b);
	return status;
}

static int run_pcap(const struct xdp_cli *c)
{
	pcap_t *p = NULL;
	if (open_capture(c->pcap_in, &p))
		return CLI_ERROR;
	struct xdp_session *s;
	if (xdp_session_open(c, &s)) {
		pcap_close(p);
		return CLI_ERROR;
	}
	int status = replay_capture(p, s, c);
	pcap_close(p);
	int closed = xdp_session_close(s);
	return status ? status : closed;
}

static int run_live(const struct xdp_cli *c)
{
	if (!xdp_live_run)
		return cli_error("live interfaces (--iface, --tap, --xsk) are not available in this build");
	struct xdp_session *s;
	if (xdp_session_open(c, &s))
		return CLI_ERROR;
	int rc = xdp_live_run(s, c);
	int closed = xdp_session_close(s);
	return rc ? CLI_ERROR : closed;
}

int cmd_xdp(int argc, char **argv)
{
	struct xdp_cli c;
	int status = parse_args(argc, argv, &c);
	if (status)
		return status;
	return c.pcap_in ? run_pcap(&c) : run_live(&c);
}
