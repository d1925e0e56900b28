/* src/jit/jit_opt.c - peepholes and branch rewrites over a few instructions.
 *
 * Called from the emission pass (emit_fused in jit_emit_insn.c).
 * Peepholes: copy-then-add and multiply-then-add by 3, 5, 9 as one lea;
 * `rX = rY; rX &= K; if rX == 0` as test when rX is dead after
 * (jit_live.c); `rX = rY; rX += rZ; rD = *(rX + off)` as one load from
 * [rY + rZ + off] when rX is dead after; the four instructions of a
 * rotate by a constant as one rol; `rA = *(rB + off); rC op= rA` as one
 * op with a memory operand when rA is dead after.
 *
 * Branches: short forward diamonds become cmovs (if-conversion); a loop's
 * `if C goto out; goto head` latch becomes `if !C goto head; jmp out`.
 * (The bounds that decide a conditional jump live in jit_emit_insn.c,
 * next to the emission pass that tracks them per instruction.)
 */
#include "jit/jit_internal.h"

/* ---- peepholes over two or three instructions ----
 *
 * Each applies only when nothing jumps into the middle of its instructions
 * and never under constant blinding; the instructions after the first then
 * have no code of their own (their offsets are where the code ends), except
 * a fused branch, which stays its instruction's code so that branch
 * relaxation sees it. */

/* Instructions i + 1 .. i + n follow i with no other way in. */
static bool straight_run(const struct jit_compiler *c, size_t i, size_t n)
{
	if (c->harden || i + n >= c->prog->count)
		return false;
	for (size_t k = 1; k <= n; k++)
		if (c->is_target[i + k])
			return false;
	return true;
}

/* `rD = rS; rD += imm` (clang's copy-then-offset), `rD = rS; rD += rT` and
 * `rD *= 3, 5 or 9; rD += imm` as one lea. */
bool jit_fuse_into_lea(struct jit_compiler *c, size_t i)
{
	const struct dinsn *d = &c->code[i], *next = &c->code[i + 1];
	if (!straight_run(c, i, 1) || next->dst != d->dst)
		return false;
	int dst = reg_map[d->dst], src = reg_map[d->src & 15];
	if (d->kind == H_MOV64_X && next->kind == H_ADD64_K && d->src != d->dst) {
		x86_lea(&c->b, dst, src, next->imm);
		return true;
	}
	bool w = d->kind == H_MOV64_X;
	if ((d->kind == H_MOV64_X || d->kind == H_MOV32_X) && d->src != d->dst &&
	    next->kind == (w ? H_ADD64_X : H_ADD32_X)) {
		int other = next->src == d->dst ? src : reg_map[next->src & 15];
		x86_lea_index(&c->b, w, dst, src, other, 0, 0);
		return true;
	}
	w = d->kind == H_MUL64_K;
	if ((d->kind == H_MUL64_K || d->kind == H_MUL32_K) && next->kind == (w ? H_ADD64_K : H_ADD32_K) &&
	    (d->imm == 3 || d->imm == 5 || d->imm == 9))
		return jit_emit_mul_by_shape(&c->b, w, dst, d->imm, next->imm);
	return false;
}

/* The size (and signedness) of a load from memory, 0 for other kinds. */
static int load_size(enum comb_handler_kind k, bool *sign)
{
	*sign = k == H_LDXS_B || k == H_LDXS_H || k == H_LDXS_W;
	switch (k) {
	case H_LDX_B: case H_LDXS_B: return 1;
	case H_LDX_H: case H_LDXS_H: return 2;
	case H_LDX_W: case H_LDXS_W: return 4;
	case H_LDX_DW: return 8;
	default: return 0;
	}
}

/* `rX = rY; rX += rZ (or K); rD = *(rX + off)` (clang's `p = base + i;
 * *p`) with rX dead afterwards or the load's destination: one load from
 * [rY + rZ + off] (or [rY + K + off]). Returns the instructions covered
 * after i (2) or 0. */
size_t jit_fuse_load_indexed(struct jit_compiler *c, size_t i)
{
	const struct dinsn *mov = &c->code[i];
	if (mov->kind != H_MOV64_X || mov->src == mov->dst || !straight_run(c, i, 2))
		return 0;
	const struct dinsn *add = &c->code[i + 1], *ld = &c->code[i + 2];
	bool sign;
	int size = load_size(ld->kind, &sign);
	if (!size || add->dst != mov->dst || ld->src != mov->dst ||
	    (add->kind != H_ADD64_X && add->kind != H_ADD64_K) || (add->kind == H_ADD64_X && add->src == mov->dst))
		return 0;
	int64_t disp = (int64_t)ld->off + (add->kind == H_ADD64_K ? (int64_t)add->imm : 0);
	if (!x86_fits32(disp) ||
	    (ld->dst != mov->dst && !comb_jit_reg_dead_at(c->code, c->prog->count, i + 3, mov->dst)))
		return 0;
	int base = reg_map[mov->src & 15], dst = reg_map[ld->dst];
	if (add->kind == H_ADD64_K)
		x86_load(&c->b, size, sign, dst, base, (int32_t)disp);
	else
		x86_load_index(&c->b, size, sign, dst, base, reg_map[add->src & 15], (int32_t)disp);
	c->off[i + 1] = c->off[i + 2] = (uint32_t)c->b.len;
	return 2;
}

/* `rT = rH; rT >>= a; rH <<= b; rH |= rT` with a + b the width (clang's
 * `(h << b) | (h >> a)`; the two shifts may come the other way round) as
 * `rol rH, b` when rT is dead after; with the result in rT instead
 * (`rT |= rH`, rH dead after) as `mov rT, rH; rol rT, b`. All four
 * instructions 64-bit or all 32-bit (a 32-bit rol zero-extends, as the
 * 32-bit operations do). Returns the instructions covered after i (3) or 0. */
size_t jit_fuse_rotate(struct jit_compiler *c, size_t i)
{
	const struct dinsn *mov = &c->code[i];
	bool w = mov->kind == H_MOV64_X;
	if ((!w && mov->kind != H_MOV32_X) || mov->src == mov->dst || !straight_run(c, i, 3))
		return 0;
	const struct dinsn *first = &c->code[i + 1], *second = &c->code[i + 2], *or = &c->code[i + 3];
	enum comb_handler_kind lsh = w ? H_LSH64_K : H_LSH32_K, rsh = w ? H_RSH64_K : H_RSH32_K;
	int t = mov->dst, h = mov->src & 15, width = w ? 64 : 32;
	if (first->dst != t || second->dst != h || (first->kind != lsh && first->kind != rsh) ||
	    second->kind != (first->kind == lsh ? rsh : lsh) || or->kind != (w ? H_OR64_X : H_OR32_X) ||
	    first->imm <= 0 || first->imm >= width || first->imm + second->imm != width)
		return 0;
	int result;
	if (or->dst == h && (or->src & 15) == t)
		result = h;
	else if (or->dst == t && (or->src & 15) == h)
		result = t;
	else
		return 0;
	if (!comb_jit_reg_dead_at(c->code, c->prog->count, i + 4, result == h ? t : h))
		return 0;
	uint8_t left = (uint8_t)(first->kind == lsh ? first->imm : second->imm);
	if (result != h)
		x86_mov_rr(&c->b, w, reg_map[result], reg_map[h]);
	x86_shift_ri(&c->b, w, X86_ROL, reg_map[result], left);
	c->off[i + 1] = c->off[i + 2] = c->off[i + 3] = (uint32_t)c->b.len;
	return 3;
}

/* The x86 `op r, r/m` opcode of an eBPF register-register ALU kind a
 * load can feed (0: none; imul is 0f af); *w: a 64-bit one. */
static uint16_t op_from_memory(enum comb_handler_kind k, bool *w)
{
	*w = k >= H_ADD64_K && k <= H_NEG64;
	switch (k) {
	case H_ADD64_X: case H_ADD32_X: return 0x03;
	case H_SUB64_X: case H_SUB32_X: return 0x2b;
	case H_AND64_X: case H_AND32_X: return 0x23;
	case H_OR64_X: case H_OR32_X: return 0x0b;
	case H_XOR64_X: case H_XOR32_X: return 0x33;
	case H_MUL64_X: case H_MUL32_X: return 0x0faf;
	default: return 0;
	}
}

/* `rA = *(u32 *)(rB + off); wC op= wA` (or u64 and a 64-bit op) with rA
 * dead after and C not A: `op rC, [rB + off]` (add, sub, and, or, xor,
 * imul). The memory operand is read as wide as the load (a 32-bit op on a
 * u32 load, a 64-bit op on a u64 load), so the value is the same. Returns
 * the instructions covered after i (1) or 0. */
size_t jit_fuse_load_op(struct jit_compiler *c, size_t i)
{
	const struct dinsn *ld = &c->code[i], *alu = &c->code[i + 1];
	bool w;
	uint16_t op = op_from_memory((enum comb_handler_kind)alu->kind, &w);
	if (!op || (ld->kind != (w ? H_LDX_DW : H_LDX_W)) || (alu->src & 15) != ld->dst || alu->dst == ld->dst ||
	    !straight_run(c, i, 1) || !comb_jit_reg_dead_at(c->code, c->prog->count, i + 2, ld->dst))
		return 0;
	x86_rm(&c->b, false, w, op, reg_map[alu->dst], reg_map[ld->src & 15], ld->off, false);
	c->off[i + 1] = (uint32_t)c->b.len;
	return 1;
}

/* ---- if-conversion ----
 *
 * `if C goto L; B; L:` where B is 1..IFCONV_MAX register-only instructions
 * writing at most two registers becomes: B computed into r11/r10, the
 * compare, a cmov per written register. clang turns `if (c) x = f(x)` into
 * such diamonds; when C follows the data a mispredicted branch costs 15-20
 * cycles, a cmov one. B runs unconditionally, so it may not touch memory,
 * trap or call. The cmovs are 64-bit: a 32-bit cmov would clear the upper
 * half of a register it does not move. Loop-closing diamonds (`if C goto
 * head; B; goto head`) stay branches: converted, collatz's step lengthened
 * the loop's dependency chain and ran 1.2x slower, its branch being
 * predictable. (IFCONV_MAX, the most instructions in B: jit_internal.h.) */
struct ifconv_plan {
	size_t n;          /* instructions in B */
	int ndst;
	uint8_t dst[2];    /* eBPF registers B writes; dst[k] computes in SCRATCH_REG + k */
};

/* May d run unconditionally into a scratch register? Arithmetic on
 * registers only that writes d->dst alone and borrows no register. */
static bool if_convertible(const struct jit_compiler *c, const struct dinsn *d)
{
	switch (d->kind) {
	case H_ADD64_K: case H_SUB64_K: case H_OR64_K: case H_AND64_K: case H_XOR64_K:
	case H_ADD32_K: case H_SUB32_K: case H_OR32_K: case H_AND32_K: case H_XOR32_K:
	case H_ADD64_X: case H_SUB64_X: case H_OR64_X: case H_AND64_X: case H_XOR64_X:
	case H_ADD32_X: case H_SUB32_X: case H_OR32_X: case H_AND32_X: case H_XOR32_X:
	case H_MUL64_K: case H_MUL32_K: case H_MUL64_X: case H_MUL32_X:
	case H_LSH64_K: case H_RSH64_K: case H_ARSH64_K: case H_LSH32_K: case H_RSH32_K: case H_ARSH32_K:
	case H_MOV64_K: case H_MOV32_K: case H_MOV64_X: case H_MOV32_X:
	case H_NEG64: case H_NEG32:
		return true;
	case H_LSH64_X: case H_RSH64_X: case H_ARSH64_X: case H_LSH32_X: case H_RSH32_X: case H_ARSH32_X:
		return c->bmi2; /* shlx and friends need no rcx */
	default:
		return false;
	}
}

/* Does d set its destination without reading it? */
static bool defines_dst(const struct dinsn *d)
{
	return d->kind == H_MOV64_K || d->kind == H_MOV32_K ||
	       ((d->kind == H_MOV64_X || d->kind == H_MOV32_X) && d->src != d->dst);
}

/* B = the n instructions after j: convertible, at most two registers. */
static bool ifconv_block(const struct jit_compiler *c, size_t j, size_t n, struct ifconv_plan *p)
{
	if (!straight_run(c, j, n))
		return false;
	p->n = n;
	p->ndst = 0;
	for (size_t k = 1; k <= n; k++) {
		const struct dinsn *d = &c->code[j + k];
		if (!if_convertible(c, d))
			return false;
		int slot = 0;
		while (slot < p->ndst && p->dst[slot] != d->dst)
			slot++;
		if (slot == p->ndst) {
			if (p->ndst == 2)
				return false;
			p->dst[p->ndst++] = d->dst;
		}
	}
	return true;
}

/* Can the conditional jump at j be if-converted? */
static bool ifconv_plan(const struct jit_compiler *c, size_t j, struct ifconv_plan *p)
{
	const struct dinsn *jump = &c->code[j];
	if (c->harden || jump->off < 1 || jump->off > IFCONV_MAX || cond_of(jump->kind) < 0)
		return false;
	return ifconv_block(c, j, (size_t)jump->off, p);
}

/* B into the scratch registers (before the compare: it changes flags). */
static void ifconv_compute(struct jit_compiler *c, size_t j, const struct ifconv_plan *p)
{
	bool written[2] = { false, false };
	for (size_t k = 1; k <= p->n; k++) {
		struct dinsn d = c->code[j + k];
		int slot = d.dst == p->dst[0] ? 0 : 1;
		if (!written[slot] && !defines_dst(&d))
			x86_mov_rr(&c->b, true, reg_map[SCRATCH_REG + slot], reg_map[d.dst]);
		written[slot] = true;
		for (int s = 0; s < p->ndst; s++)
			if (written[s] && (d.src & 15) == p->dst[s])
				d.src = (uint8_t)(SCRATCH_REG + s);
		d.dst = (uint8_t)(SCRATCH_REG + slot);
		if (!jit_emit_alu(c, &d))
			jit_emit_move(c, &d);
	}
	flags_forget(&c->prev_fl);
}

/* After the compare (jump condition cc): the cmovs; B's slots have no code. */
static void ifconv_commit(struct jit_compiler *c, size_t j, const struct ifconv_plan *p, int cc)
{
	for (int s = 0; s < p->ndst; s++)
		x86_cmov(&c->b, true, (enum x86_cond)(cc ^ 1), reg_map[p->dst[s]], reg_map[SCRATCH_REG + s]);
	flags_forget(&c->fl);
	for (size_t k = 0; k <= p->n; k++)
		c->off[j + k] = k ? (uint32_t)c->b.len : c->off[j];
}

/* The conditional jump at i, if-converted: instructions it covered after i. */
size_t jit_fuse_if_convert(struct jit_compiler *c, size_t i)
{
	struct ifconv_plan p;
	if (!ifconv_plan(c, i, &p))
		return 0;
	ifconv_compute(c, i, &p);
	ifconv_commit(c, i, &p, jit_emit_compare(c, &c->code[i]));
	return p.n;
}

/* `rX = rY; rX &= K; if rX ==/!= 0 goto T` with rX dead afterwards (on both
 * paths): `test rY, K; jz/jnz T` (or if-converted, see above). */
size_t jit_fuse_and_test(struct jit_compiler *c, size_t i)
{
	const struct dinsn *mov = &c->code[i];
	if ((mov->kind != H_MOV64_X && mov->kind != H_MOV32_X) || mov->src == mov->dst || !straight_run(c, i, 2))
		return 0;
	const struct dinsn *and = &c->code[i + 1], *jump = &c->code[i + 2];
	enum comb_handler_kind k = jump->kind;
	bool jmp64 = k == H_JEQ64_K || k == H_JNE64_K;
	if ((and->kind != H_AND64_K && and->kind != H_AND32_K) || and->dst != mov->dst ||
	    (!jmp64 && k != H_JEQ32_K && k != H_JNE32_K) || jump->dst != mov->dst || jump->imm != 0)
		return 0;
	size_t target = i + 3 + (size_t)(int64_t)jump->off;
	if (!comb_jit_reg_dead_at(c->code, c->prog->count, i + 3, mov->dst) ||
	    !comb_jit_reg_dead_at(c->code, c->prog->count, target, mov->dst))
		return 0;
	bool w = mov->kind == H_MOV64_X && and->kind == H_AND64_K && jmp64;
	struct ifconv_plan p;
	bool convert = ifconv_plan(c, i + 2, &p);
	if (convert)
		ifconv_compute(c, i + 2, &p);
	x86_test_ri(&c->b, w, reg_map[mov->src & 15], and->imm);
	c->off[i + 1] = c->off[i + 2] = (uint32_t)c->b.len;
	if (!convert) {
		emit_jump(c, i + 2, target, cond_of(k));
		return 2;
	}
	ifconv_commit(c, i + 2, &p, cond_of(k));
	return 2 + p.n;
}

/* `if C goto X; goto L` with L a loop head behind (a loop's latch: clang
 * puts the exit test first): `if !C goto L; jmp X`, so the loop takes one
 * branch per turn instead of two. Each instruction keeps one branch of its
 * own for the relaxation. */
size_t jit_fuse_rotate_latch(struct jit_compiler *c, size_t i)
{
	const struct dinsn *jump = &c->code[i], *go = &c->code[i + 1];
	if (cond_of(jump->kind) < 0 || !straight_run(c, i, 1) || go->kind != H_JA || go->off >= 0)
		return 0;
	size_t exit_to = i + 1 + (size_t)(int64_t)jump->off, loop = i + 2 + (size_t)(int64_t)go->off;
	int cc = jit_emit_compare(c, jump);
	emit_jump(c, i, loop, cc ^ 1);
	c->off[i + 1] = (uint32_t)c->b.len;
	if (exit_to != i + 2)
		emit_jump(c, i + 1, exit_to, -1);
	return 1;
}
