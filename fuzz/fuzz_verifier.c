/* fuzz_verifier.c - libFuzzer target for comb_verify.
 *
 * The input is read as raw instruction slots (after a first byte choosing
 * the program type and strict mode) and verified with a small budget and a
 * log. The verifier must neither crash, nor trip a sanitizer, nor hang;
 * its verdict is not checked here (soundness is tested by running accepted
 * programs, see the issue).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>

#include "comb/verifier.h"

static const uint32_t types[] = { BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_XDP,
				  BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_KPROBE,
				  BPF_PROG_TYPE_TRACEPOINT, BPF_PROG_TYPE_CGROUP_SKB };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 + 8)
		return 0;
	size_t count = (size - 1) / 8;
	struct comb_insn *insns = malloc(count * sizeof(*insns));
	if (!insns)
		return 0;
	memcpy(insns, data + 1, count * 8);
	static char log[1 << 14];
	struct comb_verify_opts o = { .sz = sizeof(o),
				      .prog_type = types[data[0] % (sizeof(types) / sizeof(types[0]))],
				      .flags = (data[0] & 0x80) ? COMB_VERIFY_STRICT : 0,
				      .log_level = (data[0] >> 4) & 3, .log_buf = log,
				      .log_size = sizeof(log), .max_insns = 20000 };
	struct comb_verify_result res;
	comb_verify(insns, count, &o, &res);
	if (strlen(res.message) >= sizeof(res.message))
		abort();
	free(insns);
	return 0;
}
