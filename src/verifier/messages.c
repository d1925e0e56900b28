/* src/verifier/messages.c - rejections and the verifier log in plain words.
 *
 * A rejection is one line: "insn N: DISASSEMBLY: what is wrong; the usual
 * fix". It goes to the result's message and, with log_level >= 1, to the log
 * followed by the registers of the current frame (the state that matters).
 * log_level 2 adds a trace line per explored instruction (verifier.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "comb/asm.h"
#include "verifier/helper_protos.h"
#include "verifier/internal.h"

void verifier_log(struct venv *env, const char *fmt, ...)
{
	if (!env->log_buf || env->log_size == 0 || env->log_len + 1 >= env->log_size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(env->log_buf + env->log_len, env->log_size - env->log_len, fmt, ap);
	va_end(ap);
	if (n > 0) {
		env->log_len += (size_t)n;
		if (env->log_len >= env->log_size)
			env->log_len = env->log_size - 1;
	}
}

const char *verifier_type_name(uint8_t type)
{
	static const char *const names[VT__COUNT] = {
		[VT_NOT_INIT] = "not initialized", [VT_SCALAR] = "scalar",
		[VT_CTX] = "ctx", [VT_STACK] = "fp", [VT_MAP_PTR] = "map_ptr",
		[VT_MAP_VALUE] = "map_value", [VT_MAP_KEY] = "map_key",
		[VT_PKT] = "pkt", [VT_PKT_META] = "pkt_meta", [VT_PKT_END] = "pkt_end",
		[VT_MEM] = "mem", [VT_FUNC] = "func", [VT_SOCKET] = "sock",
		[VT_BTF_ID] = "kernel object", [VT_CONST_DYNPTR] = "const dynptr",
	};
	return type < VT__COUNT ? names[type] : "?";
}

int verifier_reg_str(char *buf, size_t len, const struct venv *env, const struct vreg *r)
{
	char var[256];
	if (r->type == VT_NOT_INIT)
		return snprintf(buf, len, "?");
	comb_scalar_str(var, sizeof(var), &r->var);
	if (r->type == VT_SCALAR)
		return snprintf(buf, len, "%s", var);
	int n = snprintf(buf, len, "%s%s(off=%d", verifier_type_name(r->type),
			 r->maybe_null ? "_or_null" : "", r->off);
	if (!comb_scalar_is_const(&r->var) || r->var.umin != 0)
		n += snprintf(buf + n, len > (size_t)n ? len - (size_t)n : 0, ",var=%s", var);
	if (vreg_is_pkt(r))
		n += snprintf(buf + n, len > (size_t)n ? len - (size_t)n : 0, ",r=%d", r->range);
	if (r->type == VT_MAP_VALUE || r->type == VT_MAP_PTR || r->type == VT_MEM)
		n += snprintf(buf + n, len > (size_t)n ? len - (size_t)n : 0, ",%s=%u",
			      r->type == VT_MAP_PTR ? "map" : "size",
			      r->type == VT_MAP_PTR ? r->map : r->size);
	(void)env;
	return n + snprintf(buf + n, len > (size_t)n ? len - (size_t)n : 0, ")");
}

void verifier_log_state(struct venv *env, const struct vstate *st)
{
	if (!env->log_buf)
		return;
	const struct vframe *f = st->frames[st->nframes - 1];
	char buf[320];
	if (st->nframes > 1)
		verifier_log(env, " frame%d:", st->nframes - 1);
	for (int r = 0; r < COMB_REG_COUNT; r++) {
		if (f->regs[r].type == VT_NOT_INIT)
			continue;
		verifier_reg_str(buf, sizeof(buf), env, &f->regs[r]);
		verifier_log(env, " r%d=%s", r, buf);
	}
	for (int s = 0; s < VSTACK_SLOTS; s++) {
		if (f->stype[s * 8] != SLOT_SPILL)
			continue;
		verifier_reg_str(buf, sizeof(buf), env, &f->spill[s]);
		verifier_log(env, " fp%d=%s", s * 8 - COMB_STACK_SIZE, buf);
	}
	verifier_log(env, "\n");
}

int verifier_reject(struct venv *env, const struct vstate *st, size_t idx, const char *fmt, ...)
{
	char what[400], text[96];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (idx < env->count)
		comb_disasm_insn(env->insns, env->count, idx, COMB_SYNTAX_LLVM, text, sizeof(text));
	else
		snprintf(text, sizeof(text), "(end of program)");
	struct comb_verify_result *res = env->res;
	res->ok = false;
	res->error_insn = (long)idx;
	snprintf(res->message, sizeof(res->message), "insn %zu: %s: %s", idx, text, what);
	if (env->log_level >= 1) {
		verifier_log(env, "%s\n", res->message);
		if (st) {
			verifier_log(env, "state at insn %zu:", idx);
			verifier_log_state(env, st);
		}
	}
	return -EACCES;
}

int verifier_check_reg_init(struct venv *env, const struct vstate *st, size_t idx, int regno)
{
	const struct vframe *f = st->frames[st->nframes - 1];
	if (f->regs[regno].type != VT_NOT_INIT)
		return 0;
	if (regno >= 1 && regno <= 5)
		return verifier_reject(env, st, idx,
				       "r%d is not initialized here (helper and function calls clobber r1-r5): "
				       "set it first, or keep the value in r6-r9 across calls",
				       regno);
	return verifier_reject(env, st, idx,
			       "r%d is read before any value was written to it: initialize it on every path",
			       regno);
}

const char *verifier_null_source(const struct vreg *r)
{
	const char *name = r->src_helper ? comb_helper_name(r->src_helper) : NULL;
	return name ? name : "the call that returned it";
}
