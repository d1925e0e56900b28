/* tools/comb/cmd_ringbuf.c - `comb ringbuf PIN [--json] [--count N]`.
 *
 * Opens a pinned RINGBUF map and prints its records as they come, one line
 * each, until interrupted (SIGINT/SIGTERM) or N records were printed: the
 * size and the bytes in hex, or with --json one object per line
 * {"size": N, "data": "hex"}. The ring lives in the pinned file itself, so
 * records producers in other processes write there show up here. The
 * consumer sleeps (no polling) until woken through a FIFO next to the
 * pinned file (PIN.wake) that producers in any process write to; a signal
 * ends the sleep.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = 1;
}

struct printer {
	bool json;
	uint64_t printed, limit;
};

static int print_record(void *ctx, void *data, size_t size)
{
	struct printer *p = ctx;
	const uint8_t *bytes = data;
	printf(p->json ? "{\"size\": %zu, \"data\": \"" : "%zu: ", size);
	for (size_t i = 0; i < size; i++)
		printf("%02x", bytes[i]);
	printf(p->json ? "\"}\n" : "\n");
	fflush(stdout);
	p->printed++;
	return p->limit && p->printed >= p->limit ? -ECANCELED : 0;
}

static int fifo_path_for(const char *pin, char *out, size_t len)
{
	char dir[4096];
	if (pin[0] == '/' || comb_pin_dir(dir, sizeof(dir)))
		return snprintf(out, len, "%s.wake", pin) < (int)len ? 0 : -ENAMETOOLONG;
	return snprintf(out, len, "%s/%s.wake", dir, pin) < (int)len ? 0 : -ENAMETOOLONG;
}

int cmd_ringbuf(int argc, char **argv)
{
	struct printer p = { 0 };
	const char *pin = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			p.json = true;
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			p.limit = strtoull(argv[++i], NULL, 0);
		else if (argv[i][0] != '-' && !pin)
			pin = argv[i];
		else
			return CLI_USAGE;
	}
	if (!pin)
		return CLI_USAGE;
	struct comb_map *map;
	char err[512], fifo[4200];
	int rc = comb_map_open_pinned(pin, &map, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "comb: ringbuf: %s: %s\n", pin, err[0] ? err : strerror(-rc));
		return CLI_ERROR;
	}
	struct comb_ring_buffer *rb = NULL;
	if ((rc = fifo_path_for(pin, fifo, sizeof(fifo))) || (rc = comb_ringbuf_wake_fifo(map, fifo)) ||
	    (rc = comb_ring_buffer_new(map, print_record, &p, NULL, &rb))) {
		fprintf(stderr, "comb: ringbuf: %s: cannot consume: %s (is it a ring buffer?)\n", pin,
			strerror(-rc));
		comb_map_free(map);
		return CLI_ERROR;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!interrupted && (!p.limit || p.printed < p.limit)) {
		rc = comb_ring_buffer_poll(rb, -1); /* SIGINT/SIGTERM end the wait (EINTR) */
		if (rc < 0 && rc != -ECANCELED) {
			fprintf(stderr, "comb: ringbuf: %s: %s\n", pin, strerror(-rc));
			break;
		}
	}
	comb_ring_buffer_free(rb);
	comb_map_free(map);
	return rc < 0 && rc != -ECANCELED ? CLI_ERROR : CLI_OK;
}
