/* tests/progs/verify_tracing.bpf.c - BTF-typed contexts (tp_btf, fentry),
 * against the kernel's verifier.
 *
 * The context of these programs is the target's arguments as the kernel's
 * BTF types them: a struct task_struct * argument is a kernel object whose
 * fields may be read (offsets relocated by CO-RE: the struct below names
 * only the field used), a number is a number. safe_* programs read typed
 * arguments; unsafe_* ones read past the last argument, write into a
 * kernel object, dereference a number argument or return non-zero from
 * fentry. kernel_verdicts.c verifies them with comb_verify_object_prog,
 * which types the context from the section's target. (Where the kernel
 * refuses to load fentry/fexit at all, EPERM without a verifier log, only
 * comb's verdicts are checked against the names.)
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

/* Keep a value alive (fentry must return 0, so nothing else would use it). */
#define USE(x) asm volatile("" :: "r"(x))

/* sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next,
 *              unsigned int prev_state) */
SEC("tp_btf/sched_switch") int safe_tp_btf_next_pid(__u64 *ctx)
{
	struct task_struct *next = (void *)ctx[2];
	struct task_struct *prev = (void *)ctx[1];
	USE(next->pid + prev->tgid);
	return 0;
}

SEC("tp_btf/sched_switch") int safe_tp_btf_numbers(__u64 *ctx)
{
	__u64 preempt = ctx[0], state = ctx[3];
	USE(preempt + state);
	return 0;
}

SEC("tp_btf/sched_switch") int unsafe_tp_btf_past_last_arg(__u64 *ctx)
{
	return ctx[4] != 0;
}

SEC("tp_btf/sched_switch") int unsafe_tp_btf_write_task(__u64 *ctx)
{
	struct task_struct *next = (void *)ctx[2];
	next->pid = 0;
	return 0;
}

SEC("tp_btf/sched_switch") int unsafe_tp_btf_write_ctx(__u64 *ctx)
{
	ctx[0] = 1;
	return 0;
}

/* wake_up_process(struct task_struct *p) */
SEC("fentry/wake_up_process") int safe_fentry_task_pid(__u64 *ctx)
{
	struct task_struct *p = (void *)ctx[0];
	USE(p->pid);
	return 0;
}

/* do_nanosleep(struct hrtimer_sleeper *t, enum hrtimer_mode mode): mode is a number */
SEC("fentry/do_nanosleep") int unsafe_fentry_deref_number(__u64 *ctx)
{
	struct task_struct *p = (void *)ctx[1];
	USE(p->pid);
	return 0;
}

SEC("fentry/wake_up_process") int unsafe_fentry_returns_one(__u64 *ctx)
{
	return 1;
}

SEC("fexit/wake_up_process") int safe_fexit_return_value(__u64 *ctx)
{
	int woken = (int)ctx[1]; /* fexit: the return value follows the arguments */
	USE(woken);
	return 0;
}
