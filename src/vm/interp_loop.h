/* src/vm/interp_loop.h - the threaded interpreter, as a template.
 *
 * interp.c includes this file twice: once with CHECKED 0 (the fast engine
 * for trusted or verified programs) and once with CHECKED 1 (memory checks
 * against the stack and the caller's regions, and an instruction budget).
 * Dispatch is threaded code: every decoded slot holds its handler's address
 * and each handler ends by jumping straight to the next one's (computed goto),
 * so the CPU predicts each dispatch from the handler it leaves.
 *
 * Define before including: ENGINE_FN (function name), ENGINE_SLOT, CHECKED.
 */

#define H_LABEL_ADDR(name) [H_##name] = &&h_##name,

#if CHECKED
#define BUDGET()                                                                   \
	do {                                                                       \
		if (__builtin_expect(--budget == 0, 0))                            \
			goto out_of_budget;                                        \
	} while (0)
#define CHECK_MEM(addr, size, write)                                               \
	do {                                                                       \
		if (__builtin_expect(!comb_checked_mem_allowed(rs, (addr), (size), (write)), 0)) { \
			fault_addr = (addr);                                       \
			fault_size = (size);                                       \
			fault_write = (write);                                     \
			goto mem_fault;                                            \
		}                                                                  \
	} while (0)
#define CHECK_ALIGNED(addr, size)                                                  \
	do {                                                                       \
		if (__builtin_expect((addr) & ((size) - 1), 0)) {                  \
			fault_addr = (addr);                                       \
			fault_size = (size);                                       \
			goto misaligned_atomic;                                    \
		}                                                                  \
	} while (0)
#else
#define BUDGET() do { } while (0)
#define CHECK_MEM(addr, size, write) do { } while (0)
#define CHECK_ALIGNED(addr, size) do { } while (0)
#endif

/* Around helper calls: a helper may run callbacks, which spend the same
 * budget and may fail; a failure ends this run with the callback's error. */
#if CHECKED
#define SYNC_BUDGET_OUT() do { rs->budget_left = budget; } while (0)
#define AFTER_HELPER()                                                             \
	do {                                                                       \
		budget = rs->budget_left;                                          \
		if (__builtin_expect(rs->root->abort_rc != 0, 0))                  \
			return rs->root->abort_rc;                                 \
	} while (0)
#else
#define SYNC_BUDGET_OUT() do { } while (0)
#define AFTER_HELPER()                                                             \
	do {                                                                       \
		if (__builtin_expect(rs->root->abort_rc != 0, 0))                  \
			return rs->root->abort_rc;                                 \
	} while (0)
#endif

#define DISPATCH()                                                                 \
	do {                                                                       \
		BUDGET();                                                          \
		goto *d->op;                                                       \
	} while (0)
#define NEXT()                                                                     \
	do {                                                                       \
		d++;                                                               \
		DISPATCH();                                                        \
	} while (0)
#define JUMP(delta)                                                                \
	do {                                                                       \
		d += 1 + (delta);                                                  \
		DISPATCH();                                                        \
	} while (0)

#define DST R[d->dst]
#define SRC R[d->src]
#define IMM64 ((uint64_t)(int64_t)d->imm)
#define IMM32 ((uint32_t)d->imm)

/* ALU handlers, K and X forms, 64 and 32 bit. */
#define ALU_BOTH(NAME, OP)                                                         \
	h_##NAME##64_K : DST = DST OP IMM64; NEXT();                               \
	h_##NAME##64_X : DST = DST OP SRC; NEXT();                                 \
	h_##NAME##32_K : DST = (uint32_t)((uint32_t)DST OP IMM32); NEXT();         \
	h_##NAME##32_X : DST = (uint32_t)((uint32_t)DST OP (uint32_t)SRC); NEXT();

/* Fused "rA = rB; rA op= C" (see fuse.c): both slots done, skip two. */
#define FUSED_BOTH(NAME, OP, MASK64, MASK32)                                       \
	h_FUSED_##NAME##64_K : DST = SRC OP IMM64; d += 2; DISPATCH();             \
	h_FUSED_##NAME##64_X : DST = SRC OP (R[d->imm] MASK64); d += 2; DISPATCH(); \
	h_FUSED_##NAME##32_K : DST = (uint32_t)((uint32_t)SRC OP IMM32); d += 2; DISPATCH(); \
	h_FUSED_##NAME##32_X :                                                     \
		DST = (uint32_t)((uint32_t)SRC OP ((uint32_t)R[d->imm] MASK32)); d += 2; DISPATCH();

/* Each condition in four forms, plus the fused "then ja" variant of each
 * (taken: this slot's offset; not taken: the JA in the next slot). */
#define ELSE_JA() do { d += 2 + d[1].off; DISPATCH(); } while (0)
#define JCOND(NAME, T64, T32, OP)                                                  \
	h_##NAME##64_K : if ((T64)DST OP (T64)(int64_t)d->imm) JUMP(d->off); NEXT(); \
	h_##NAME##64_X : if ((T64)DST OP (T64)SRC) JUMP(d->off); NEXT();           \
	h_##NAME##32_K : if ((T32)DST OP (T32)d->imm) JUMP(d->off); NEXT();        \
	h_##NAME##32_X : if ((T32)DST OP (T32)SRC) JUMP(d->off); NEXT();           \
	h_##NAME##64_K_JA : if ((T64)DST OP (T64)(int64_t)d->imm) JUMP(d->off); ELSE_JA(); \
	h_##NAME##64_X_JA : if ((T64)DST OP (T64)SRC) JUMP(d->off); ELSE_JA();     \
	h_##NAME##32_K_JA : if ((T32)DST OP (T32)d->imm) JUMP(d->off); ELSE_JA();  \
	h_##NAME##32_X_JA : if ((T32)DST OP (T32)SRC) JUMP(d->off); ELSE_JA();

#define LOAD(NAME, T, EXT)                                                         \
	h_##NAME : {                                                               \
		uint64_t addr_ = SRC + (int64_t)d->off;                            \
		CHECK_MEM(addr_, sizeof(T), false);                                \
		DST = (EXT)(*(const T *)(uintptr_t)addr_);                         \
		NEXT();                                                            \
	}

#define STORE(NAME, T, VALUE)                                                      \
	h_##NAME : {                                                               \
		uint64_t addr_ = DST + (int64_t)d->off;                            \
		CHECK_MEM(addr_, sizeof(T), true);                                 \
		*(T *)(uintptr_t)addr_ = (T)(VALUE);                               \
		NEXT();                                                            \
	}

/* Atomic read-modify-write: PTR is the target, result in RES. */
#define ATOMIC_PROLOGUE(T)                                                         \
	uint64_t addr_ = DST + (int64_t)d->off;                                    \
	CHECK_MEM(addr_, sizeof(T), true);                                         \
	CHECK_ALIGNED(addr_, sizeof(T));                                           \
	T *ptr_ = (T *)(uintptr_t)addr_;

#define ATOMIC_RMW(W, T, NAME, BUILTIN)                                            \
	h_ATOMIC##W##_##NAME : {                                                   \
		ATOMIC_PROLOGUE(T)                                                 \
		BUILTIN(ptr_, (T)SRC, __ATOMIC_SEQ_CST);                           \
		NEXT();                                                            \
	}                                                                          \
	h_ATOMIC##W##_FETCH_##NAME : {                                             \
		ATOMIC_PROLOGUE(T)                                                 \
		SRC = (T)BUILTIN(ptr_, (T)SRC, __ATOMIC_SEQ_CST);                  \
		NEXT();                                                            \
	}

#define ATOMIC_WIDTH(W, T)                                                         \
	ATOMIC_RMW(W, T, ADD, __atomic_fetch_add)                                  \
	ATOMIC_RMW(W, T, OR, __atomic_fetch_or)                                    \
	ATOMIC_RMW(W, T, AND, __atomic_fetch_and)                                  \
	ATOMIC_RMW(W, T, XOR, __atomic_fetch_xor)                                  \
	h_ATOMIC##W##_XCHG : {                                                     \
		ATOMIC_PROLOGUE(T)                                                 \
		SRC = (T)__atomic_exchange_n(ptr_, (T)SRC, __ATOMIC_SEQ_CST);      \
		NEXT();                                                            \
	}                                                                          \
	h_ATOMIC##W##_CMPXCHG : {                                                  \
		ATOMIC_PROLOGUE(T)                                                 \
		T expected_ = (T)R[0];                                             \
		__atomic_compare_exchange_n(ptr_, &expected_, (T)SRC, false,       \
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);   \
		R[0] = expected_;                                                  \
		NEXT();                                                            \
	}

/* Legacy packet loads: big-endian, out of bounds ends the program with 0. */
#define PACKET_LOAD(NAME, SIZE, OFFSET, EXPR)                                      \
	h_##NAME : {                                                               \
		int64_t off_ = (int32_t)(OFFSET);                                  \
		if (off_ < 0 || (uint64_t)off_ + (SIZE) > packet_len)              \
			goto packet_out_of_bounds;                                 \
		const uint8_t *p_ = packet + off_;                                 \
		R[0] = (EXPR);                                                     \
		NEXT();                                                            \
	}
#define BE16_AT(p) (((uint32_t)(p)[0] << 8) | (p)[1])
#define BE32_AT(p) (((uint32_t)(p)[0] << 24) | ((uint32_t)(p)[1] << 16) | ((uint32_t)(p)[2] << 8) | (p)[3])

struct call_frame {
	const struct dinsn *ret;
	const struct comb_prog *prog; /* a tail call in a callee replaces only the callee */
	uint64_t saved[5]; /* r6..r9, r10 */
};

int ENGINE_FN(const struct comb_prog *prog, struct comb_run_state *rs, uint64_t *r0,
	      const void *const **table_out)
{
	static const void *const table[H__COUNT] = { COMB_HANDLERS(H_LABEL_ADDR) };
	if (!prog) {
		*table_out = table;
		return 0;
	}

	uint8_t stack[COMB_STACK_SIZE * COMB_MAX_FRAMES] __attribute__((aligned(16)));
	uint64_t R[COMB_REG_COUNT];
	struct call_frame frames[COMB_MAX_FRAMES];
	int depth = 0;
	const struct comb_run_opts *opts = rs->opts;
	const struct dinsn *base = prog->code[ENGINE_SLOT];
	const struct dinsn *d = base + rs->start;
	comb_helper_fn *helpers = prog->helpers;
	uint32_t helper_count = prog->helper_count;
	const uint8_t *const packet = opts->packet;
	const uint64_t packet_len = opts->packet ? opts->packet_len : 0;
#if CHECKED
	uint64_t budget = rs->budget_left;
	uint64_t fault_addr = 0, fault_size = 0;
	bool fault_write = false;
	memset(stack, 0, sizeof(stack));
#endif

	memset(R, 0, sizeof(R));
	for (int i = 0; i < 5; i++)
		R[i + 1] = rs->args[i];
	R[10] = (uint64_t)(uintptr_t)(stack + sizeof(stack));
	rs->regs = R;
	rs->stack_top = R[10];
	DISPATCH();

	ALU_BOTH(ADD, +)
	ALU_BOTH(SUB, -)
	ALU_BOTH(MUL, *)
	ALU_BOTH(OR, |)
	ALU_BOTH(AND, &)
	ALU_BOTH(XOR, ^)

	FUSED_BOTH(ADD, +, , )
	FUSED_BOTH(SUB, -, , )
	FUSED_BOTH(MUL, *, , )
	FUSED_BOTH(OR, |, , )
	FUSED_BOTH(AND, &, , )
	FUSED_BOTH(XOR, ^, , )
	FUSED_BOTH(LSH, <<, & 63, & 31)
	FUSED_BOTH(RSH, >>, & 63, & 31)
	h_FUSED_ARSH64_K: DST = (uint64_t)((int64_t)SRC >> d->imm); d += 2; DISPATCH();
	h_FUSED_ARSH64_X: DST = (uint64_t)((int64_t)SRC >> (R[d->imm] & 63)); d += 2; DISPATCH();
	h_FUSED_ARSH32_K: DST = (uint32_t)((int32_t)SRC >> d->imm); d += 2; DISPATCH();
	h_FUSED_ARSH32_X: DST = (uint32_t)((int32_t)SRC >> (R[d->imm] & 31)); d += 2; DISPATCH();

	/* Two register moves: the second's dst and src are in imm's low bytes. */
	h_MOV64_X_PAIR: {
		uint64_t first = SRC, second = R[(d->imm >> 8) & 0xff];
		DST = first;
		R[d->imm & 0xff] = second;
		d += 2;
		DISPATCH();
	}
	h_MOV32_X_PAIR: {
		uint32_t first = (uint32_t)SRC, second = (uint32_t)R[(d->imm >> 8) & 0xff];
		DST = first;
		R[d->imm & 0xff] = second;
		d += 2;
		DISPATCH();
	}

	h_MOV64_K: DST = IMM64; NEXT();
	h_MOV64_X: DST = SRC; NEXT();
	h_MOV32_K: DST = IMM32; NEXT();
	h_MOV32_X: DST = (uint32_t)SRC; NEXT();
	h_MOVSX64_8: DST = (uint64_t)(int64_t)(int8_t)SRC; NEXT();
	h_MOVSX64_16: DST = (uint64_t)(int64_t)(int16_t)SRC; NEXT();
	h_MOVSX64_32: DST = (uint64_t)(int64_t)(int32_t)SRC; NEXT();
	h_MOVSX32_8: DST = (uint32_t)(int32_t)(int8_t)SRC; NEXT();
	h_MOVSX32_16: DST = (uint32_t)(int32_t)(int16_t)SRC; NEXT();
	h_NEG64: DST = -DST; NEXT();
	h_NEG32: DST = (uint32_t)-(uint32_t)DST; NEXT();

	/* Shifts: constant amounts were masked by the decoder. */
	h_LSH64_K: DST <<= d->imm; NEXT();
	h_LSH64_X: DST <<= SRC & 63; NEXT();
	h_RSH64_K: DST >>= d->imm; NEXT();
	h_RSH64_X: DST >>= SRC & 63; NEXT();
	h_ARSH64_K: DST = (uint64_t)((int64_t)DST >> d->imm); NEXT();
	h_ARSH64_X: DST = (uint64_t)((int64_t)DST >> (SRC & 63)); NEXT();
	h_LSH32_K: DST = (uint32_t)((uint32_t)DST << d->imm); NEXT();
	h_LSH32_X: DST = (uint32_t)((uint32_t)DST << (SRC & 31)); NEXT();
	h_RSH32_K: DST = (uint32_t)DST >> d->imm; NEXT();
	h_RSH32_X: DST = (uint32_t)DST >> (SRC & 31); NEXT();
	h_ARSH32_K: DST = (uint32_t)((int32_t)DST >> d->imm); NEXT();
	h_ARSH32_X: DST = (uint32_t)((int32_t)DST >> (SRC & 31)); NEXT();

	/* Division: constant divisors 0 and -1 were rewritten by the decoder. */
	h_DIV64_K: DST = DST / IMM64; NEXT();
	h_DIV64_X: { uint64_t s = SRC; DST = s ? DST / s : 0; NEXT(); }
	h_MOD64_K: DST = DST % IMM64; NEXT();
	h_MOD64_X: { uint64_t s = SRC; DST = s ? DST % s : DST; NEXT(); }
	h_DIV32_K: DST = (uint32_t)DST / IMM32; NEXT();
	h_DIV32_X: { uint32_t s = (uint32_t)SRC; DST = s ? (uint32_t)DST / s : 0; NEXT(); }
	h_MOD32_K: DST = (uint32_t)DST % IMM32; NEXT();
	h_MOD32_X: { uint32_t s = (uint32_t)SRC; DST = s ? (uint32_t)DST % s : (uint32_t)DST; NEXT(); }
	h_SDIV64_K: DST = (uint64_t)((int64_t)DST / (int64_t)d->imm); NEXT();
	h_SDIV64_X: {
		int64_t s = (int64_t)SRC;
		DST = s == 0 ? 0 : s == -1 ? -DST : (uint64_t)((int64_t)DST / s);
		NEXT();
	}
	h_SMOD64_K: DST = (uint64_t)((int64_t)DST % (int64_t)d->imm); NEXT();
	h_SMOD64_X: {
		int64_t s = (int64_t)SRC;
		DST = s == 0 ? DST : s == -1 ? 0 : (uint64_t)((int64_t)DST % s);
		NEXT();
	}
	h_SDIV32_K: DST = (uint32_t)((int32_t)DST / d->imm); NEXT();
	h_SDIV32_X: {
		int32_t s = (int32_t)SRC;
		DST = s == 0 ? 0 : s == -1 ? (uint32_t)-(uint32_t)DST : (uint32_t)((int32_t)DST / s);
		NEXT();
	}
	h_SMOD32_K: DST = (uint32_t)((int32_t)DST % d->imm); NEXT();
	h_SMOD32_X: {
		int32_t s = (int32_t)SRC;
		DST = s == 0 ? (uint32_t)DST : s == -1 ? 0 : (uint32_t)((int32_t)DST % s);
		NEXT();
	}

	h_LE16: DST = (uint16_t)DST; NEXT();
	h_LE32: DST = (uint32_t)DST; NEXT();
	h_BE16: DST = __builtin_bswap16((uint16_t)DST); NEXT();
	h_BE32: DST = __builtin_bswap32((uint32_t)DST); NEXT();
	h_BE64: DST = __builtin_bswap64(DST); NEXT();
	h_NOP: NEXT();

	h_LDDW: DST = d[1].imm64; d += 2; DISPATCH();

	LOAD(LDX_B, uint8_t, uint64_t)
	LOAD(LDX_H, comb_u16_unaligned, uint64_t)
	LOAD(LDX_W, comb_u32_unaligned, uint64_t)
	LOAD(LDX_DW, comb_u64_unaligned, uint64_t)
	LOAD(LDXS_B, int8_t, int64_t)
	LOAD(LDXS_H, comb_s16_unaligned, int64_t)
	LOAD(LDXS_W, comb_s32_unaligned, int64_t)
	STORE(ST_B, uint8_t, d->imm)
	STORE(ST_H, comb_u16_unaligned, d->imm)
	STORE(ST_W, comb_u32_unaligned, d->imm)
	STORE(ST_DW, comb_u64_unaligned, (int64_t)d->imm)
	STORE(STX_B, uint8_t, SRC)
	STORE(STX_H, comb_u16_unaligned, SRC)
	STORE(STX_W, comb_u32_unaligned, SRC)
	STORE(STX_DW, comb_u64_unaligned, SRC)

	ATOMIC_WIDTH(32, uint32_t)
	ATOMIC_WIDTH(64, uint64_t)

	PACKET_LOAD(LD_ABS_B, 1, d->imm, p_[0])
	PACKET_LOAD(LD_ABS_H, 2, d->imm, BE16_AT(p_))
	PACKET_LOAD(LD_ABS_W, 4, d->imm, BE32_AT(p_))
	PACKET_LOAD(LD_IND_B, 1, (uint32_t)d->imm + (uint32_t)SRC, p_[0])
	PACKET_LOAD(LD_IND_H, 2, (uint32_t)d->imm + (uint32_t)SRC, BE16_AT(p_))
	PACKET_LOAD(LD_IND_W, 4, (uint32_t)d->imm + (uint32_t)SRC, BE32_AT(p_))

	h_JA: JUMP(d->off);
	h_GOTOL: JUMP(d->imm);
	JCOND(JEQ, uint64_t, uint32_t, ==)
	JCOND(JNE, uint64_t, uint32_t, !=)
	JCOND(JGT, uint64_t, uint32_t, >)
	JCOND(JGE, uint64_t, uint32_t, >=)
	JCOND(JLT, uint64_t, uint32_t, <)
	JCOND(JLE, uint64_t, uint32_t, <=)
	JCOND(JSGT, int64_t, int32_t, >)
	JCOND(JSGE, int64_t, int32_t, >=)
	JCOND(JSLT, int64_t, int32_t, <)
	JCOND(JSLE, int64_t, int32_t, <=)
	JCOND(JSET, uint64_t, uint32_t, &)

	h_CALL_HELPER:
		SYNC_BUDGET_OUT();
		R[0] = helpers[d->imm](R[1], R[2], R[3], R[4], R[5], &rs->call_ctx);
		AFTER_HELPER();
		NEXT();
	h_CALLX: {
		uint64_t id = DST;
		if (id >= helper_count || !helpers[id])
			goto bad_callx;
		SYNC_BUDGET_OUT();
		R[0] = helpers[id](R[1], R[2], R[3], R[4], R[5], &rs->call_ctx);
		AFTER_HELPER();
		NEXT();
	}
	h_TAIL_CALL: {
		/* r2: a PROG_ARRAY, r3: index. On success the target replaces the
		 * running program (its frame and r1 carry over); otherwise the
		 * call falls through, as in the kernel. */
		const struct comb_prog *target = NULL;
		struct comb_map *jmp_table = (struct comb_map *)(uintptr_t)R[2];
		/* An unverified program may pass anything as the map: only the
		 * program's own maps are looked at. */
		bool map_ok = CHECKED ? comb_prog_has_map(prog, jmp_table) : jmp_table != NULL;
		if (rs->root->tail_calls < COMB_MAX_TAIL_CALLS && map_ok && (R[3] >> 32) == 0)
			target = comb_map_prog_array_get(jmp_table, (uint32_t)R[3]);
		if (!target)
			NEXT();
		/* A verified program runs unchecked because it was proven safe;
		 * that proof says nothing about an unverified target (an embedder
		 * may have put one in the PROG_ARRAY). */
		if (!CHECKED && prog->verified && !target->verified) {
			comb_run_fail(rs, d - base, 0,
				      "tail call from verified program %s to unverified program %s: verify it "
				      "or run in the checked engine",
				      prog->name, target->name);
			return -EPERM;
		}
		rs->root->tail_calls++;
		prog = target;
		rs->prog = target;
		rs->call_ctx.prog = target;
		base = target->code[ENGINE_SLOT];
		helpers = target->helpers;
		helper_count = target->helper_count;
		d = base;
		DISPATCH();
	}
	h_CALL_LOCAL:
		if (depth + 1 >= COMB_MAX_FRAMES)
			goto too_deep;
		frames[depth].ret = d + 1;
		frames[depth].prog = prog;
		memcpy(frames[depth].saved, &R[6], sizeof(frames[depth].saved));
		depth++;
		R[10] -= COMB_STACK_SIZE;
		JUMP(d->imm);
	h_EXIT:
		if (depth == 0) {
			SYNC_BUDGET_OUT();
			*r0 = R[0];
			return 0;
		}
		depth--;
		memcpy(&R[6], frames[depth].saved, sizeof(frames[depth].saved));
		d = frames[depth].ret;
		if (__builtin_expect(frames[depth].prog != prog, 0)) {
			prog = frames[depth].prog; /* back from a tail-called callee */
			rs->prog = prog;
			rs->call_ctx.prog = prog;
			base = prog->code[ENGINE_SLOT];
			helpers = prog->helpers;
			helper_count = prog->helper_count;
		}
		DISPATCH();

	h_MISSING_HELPER:
		comb_run_fail(rs, d - base, 0, "program calls helper %d (%s), which comb does not implement",
			      d->imm, comb_helper_name((uint32_t)d->imm));
		return -ENOSYS;
	h_POISONED:
		comb_run_fail(rs, d - base, 0,
			      "this instruction's CO-RE relocation could not be resolved against the target "
			      "BTF, so it must not run (the field or type is missing there)");
		return -EINVAL;

packet_out_of_bounds:
	*r0 = 0;
	return 0;
bad_callx:
	comb_run_fail(rs, d - base, 0, "callx to helper %" PRIu64 ", which this VM does not provide", DST);
	return -ENOENT;
too_deep:
	comb_run_fail(rs, d - base, 0, "call depth exceeds %d frames", COMB_MAX_FRAMES);
	return -ELOOP;
#if CHECKED
out_of_budget:
	comb_run_fail(rs, d - base, 0, "instruction budget of %" PRIu64 " used up (endless loop?)",
		      (uint64_t)(opts->insn_budget ? opts->insn_budget : COMB_DEFAULT_INSN_BUDGET));
	return -E2BIG;
mem_fault:
	comb_run_fail(rs, d - base, fault_addr,
		      "%s of %" PRIu64 " byte%s at 0x%" PRIx64 " is outside the stack and every %sregion",
		      fault_write ? "write" : "read", fault_size, fault_size == 1 ? "" : "s", fault_addr,
		      fault_write ? "writable " : "");
	return -EFAULT;
misaligned_atomic:
	comb_run_fail(rs, d - base, fault_addr, "atomic access of %" PRIu64 " bytes at 0x%" PRIx64 " is misaligned",
		      fault_size, fault_addr);
	return -EFAULT;
#endif
}

#undef H_LABEL_ADDR
#undef BUDGET
#undef CHECK_MEM
#undef CHECK_ALIGNED
#undef DISPATCH
#undef SYNC_BUDGET_OUT
#undef AFTER_HELPER
#undef NEXT
#undef JUMP
#undef DST
#undef SRC
#undef IMM64
#undef IMM32
#undef ALU_BOTH
#undef JCOND
#undef ELSE_JA
#undef FUSED_BOTH
#undef LOAD
#undef STORE
#undef ATOMIC_PROLOGUE
#undef ATOMIC_RMW
#undef ATOMIC_WIDTH
#undef PACKET_LOAD
#undef BE16_AT
#undef BE32_AT
