/* fuzz_verifier_sound.c - libFuzzer target: programs comb's verifier accepts
 * must run without a fault.
 *
 * The input drives the program generator of the soundness test
 * (tests/kernel/soundness_gen.c: first byte the program type, then two bytes
 * per decision, so libFuzzer mutates block choices, constants and mistakes
 * rather than raw opcodes), and what the generator left unread becomes the
 * packet and the map contents. If comb_verify accepts the program it runs in
 * the checked engine on that packet (and a few derived ones); any fault --
 * a memory access outside its regions, a helper given memory it may not
 * touch, an unending loop -- aborts with the program and the fault. The
 * accepted program then runs in the JIT compiled with the verifier's facts
 * and in the interpreter on the same inputs (sound_check_facts): any
 * difference in status, r0 or packet aborts too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/kernel/soundness_gen.c"

static struct sound_env fuzz_env;

static void fuzz_fail(const struct sound_prog *p, const struct sound_fault *f)
{
	fprintf(stderr, "verifier soundness: comb accepted this program and its checked run faulted:\n"
			"  rc %d, insn %ld, packet of %zu bytes: %s\n", f->rc, f->insn, f->packet_len, f->message);
	sound_print_prog(stderr, p);
	static char log[1 << 16];
	struct comb_verify_result res;
	log[0] = 0;
	sound_verify(&fuzz_env, p, 2, log, sizeof(log), &res);
	size_t n = strlen(log);
	fprintf(stderr, "comb's verifier log (tail):\n%s\n", n > 4000 ? log + n - 4000 : log);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t types[] = { BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_SCHED_CLS,
					  BPF_PROG_TYPE_SOCKET_FILTER };
	if (size < 1)
		return 0;
	if (!fuzz_env.vm && sound_env_new(&fuzz_env))
		abort();
	static struct sound_prog p;
	struct sound_rng rng;
	sound_rng_from_bytes(&rng, data + 1, size - 1);
	sound_generate(&rng, types[data[0] % 3], &p);
	struct comb_verify_result res;
	if (sound_verify(&fuzz_env, &p, 0, NULL, 0, &res) != 0)
		return 0;
	struct sound_fault fault;
	/* The packet: the bytes the generator did not use (at least a header). */
	uint8_t pkt[1500];
	size_t used = 1 + rng.pos, len = size > used ? size - used : 0;
	if (len > sizeof(pkt))
		len = sizeof(pkt);
	memset(pkt, 0, sizeof(pkt));
	memcpy(pkt, data + used, len);
	if (len < 14)
		len = 14 + (data[0] >> 2) % 50;
	struct comb_prog_opts po = { .sz = sizeof(po), .name = "fuzz", .prog_type = p.prog_type,
				     .maps = fuzz_env.maps, .map_count = SOUND_MAP_COUNT + 1 };
	struct comb_prog *prog;
	char err[256];
	if (comb_prog_load(fuzz_env.vm, p.insns, p.count, &po, &prog, err, sizeof(err)))
		return 0;
	for (int run = 0; run < 4; run++) {
		sound_fill_maps(&fuzz_env, &rng);
		size_t n = run == 0 ? len : 14 + sound_rng_below(&rng, (uint32_t)len);
		if (sound_run_once(&fuzz_env, prog, p.prog_type, pkt, n, &fault)) {
			comb_prog_free(prog);
			fuzz_fail(&p, &fault);
		}
	}
	comb_prog_free(prog);
	size_t facts;
	if (sound_check_facts(&fuzz_env, &p, &rng, 2, &fault, &facts) > 0) {
		fprintf(stderr, "JIT (with %zu facts) and interpreter differ on a program comb accepted, run %d: %s\n",
			facts, fault.run, fault.message);
		sound_print_prog(stderr, &p);
		abort();
	}
	return 0;
}
