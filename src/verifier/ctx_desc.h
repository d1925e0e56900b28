/* src/verifier/ctx_desc.h - the program context each program type sees.
 *
 * A program's r1 points to a context whose layout is part of the kernel ABI
 * (struct __sk_buff, xdp_md, bpf_sock_addr, bpf_sock, bpf_sock_ops, pt_regs,
 * bpf_perf_event_data, a tracepoint record, raw tracepoint arguments). For
 * each one this module knows every field's offset and size, which access
 * sizes the kernel accepts (some fields allow narrow loads, some only their
 * full size), whether the program type may read or write it, and the type a
 * loaded register gets (a scalar, or a packet pointer for data/data_end...).
 * The verifier asks comb_ctx_access() about every context load and store;
 * the answer also tells the load-time rewrite which field is meant.
 *
 * The rules follow the kernel's *_is_valid_access() behaviour and are
 * compared with the real kernel's verdicts by tests/kernel/kernel_ctx.c.
 * Where the kernel's rule depends on the expected attach type (xdp devmap
 * programs, cgroup_sock and cgroup_sock_addr hooks), comb_ctx_access_attach()
 * takes it; comb_ctx_access() assumes the usual one (plain xdp,
 * BPF_CGROUP_INET_SOCK_CREATE, BPF_CGROUP_INET4_CONNECT).
 * Contexts typed by BTF (tracing: fentry, fexit, tp_btf) are not described here.
 */
#ifndef COMB_VERIFIER_CTX_DESC_H
#define COMB_VERIFIER_CTX_DESC_H

#include <stdbool.h>
#include <stdint.h>

/* The type of a register loaded from a context field. */
enum comb_ctx_reg {
	COMB_CTX_REG_SCALAR,
	COMB_CTX_REG_PTR_TO_PACKET,
	COMB_CTX_REG_PTR_TO_PACKET_END,
	COMB_CTX_REG_PTR_TO_PACKET_META,
	COMB_CTX_REG_PTR_TO_SOCKET,
	COMB_CTX_REG_PTR_TO_SOCKET_OR_NULL,
	COMB_CTX_REG_PTR_TO_SOCK_COMMON_OR_NULL,
};

struct comb_ctx_field_info {
	const char *ctx;        /* "__sk_buff" */
	const char *field;      /* "mark", "cb", "remote_ip6"...; NULL if no field */
	uint32_t field_off;     /* the accessed element: cb and ip6 arrays count as a whole */
	uint32_t field_size;
	enum comb_ctx_reg reg;  /* type of the register a read loads */
	bool narrow;            /* read smaller than the element (the rewrite must extract) */
	char reason[160];       /* why the access is refused (on -EACCES) */
};

/* May a program of type prog_type access size bytes at offset off of its
 * context (a write if write)? 0 with *out describing the field, -EACCES with
 * out->reason saying why not, -EINVAL for a program type without a described
 * context (out->reason says so too). out may not be NULL. */
int comb_ctx_access(uint32_t prog_type, uint32_t off, uint32_t size, bool write,
		    struct comb_ctx_field_info *out);

/* The same for a program loaded with expected attach type attach_type
 * (enum bpf_attach_type; 0 means the usual one, as above). */
int comb_ctx_access_attach(uint32_t prog_type, uint32_t attach_type, uint32_t off, uint32_t size,
			   bool write, struct comb_ctx_field_info *out);

/* The context struct's name ("__sk_buff") and size for prog_type; NULL and 0
 * for a program type without a described context. */
const char *comb_ctx_name(uint32_t prog_type);
uint32_t comb_ctx_size(uint32_t prog_type);

const char *comb_ctx_reg_name(enum comb_ctx_reg reg);

#endif
