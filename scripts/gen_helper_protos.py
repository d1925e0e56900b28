#!/usr/bin/env python3
"""scripts/gen_helper_protos.py - generate src/verifier/helper_protos_table.h.

Reads libbpf's bpf_helper_defs.h (every kernel helper: id, name, C signature)
and writes one comb_helper_proto initializer per helper. Argument kinds are
first guessed from the C signature (a `void *map` is a map, an integer after a
pointer named *size/len* is that pointer's size, `struct __sk_buff *` is the
context...). The C signature is too coarse for a verifier (a `const void *key`
is "key_size bytes of the map in argument 1"), so the OVERRIDES list below,
written by hand from the kernel's bpf_func_proto definitions and the helper
documentation, replaces the guess; entries it covers are marked REVIEWED.

Usage: scripts/gen_helper_protos.py [bpf_helper_defs.h] > src/verifier/helper_protos_table.h
"""
import re
import sys

DEFAULT_DEFS = "/usr/include/bpf/bpf_helper_defs.h"

# ---------------------------------------------------------------------------
# Hand-written prototypes: name | return | arguments | program types
#
# return:  int, void, map_value, socket, tcp_sock, sock_common, ringbuf_mem,
#          dynptr_mem, mem_or_btf, btf=STRUCT; "?" = may be NULL;
#          extra words: acquire (a reference to release), sleepable.
# args:    any, map, key, value, mem, size, size0, allocsize0, ctx, stack,
#          func, lock, timer, ringbuf_mem, dynptr, long, int, socket,
#          sock_common, btf_sock_common, btf=STRUCT, percpu_btf, const_str,
#          kptr; then ":ro", ":uninit", ":release" flags and "?" = NULL allowed.
# progs:   any, tracing, btf_tracing, tc, xdp, lwt, skb, cgroup, net, or one
#          program type by its BPF_PROG_TYPE_ suffix in lower case; joined by +.
# ---------------------------------------------------------------------------
OVERRIDES = """
map_lookup_elem            | map_value?      | map, key                                  | any
map_update_elem            | int             | map, key, value, any                      | any
map_delete_elem            | int             | map, key                                  | any
probe_read                 | int             | mem:uninit, size0, any                    | tracing
ktime_get_ns               | int             |                                           | any
trace_printk               | int             | mem:ro, size                              | any
get_prandom_u32            | int             |                                           | any
get_smp_processor_id       | int             |                                           | any
skb_store_bytes            | int             | ctx, any, mem:ro, size, any               | tc+sk_skb+lwt_xmit
l3_csum_replace            | int             | ctx, any, any, any, any                   | tc+lwt_xmit
l4_csum_replace            | int             | ctx, any, any, any, any                   | tc+lwt_xmit
tail_call                  | void            | ctx, map, any                             | any
clone_redirect             | int             | ctx, any, any                             | tc
get_current_pid_tgid       | int             |                                           | tracing+cgroup+sk_msg
get_current_uid_gid        | int             |                                           | tracing+cgroup
get_current_comm           | int             | mem:uninit, size                          | tracing+cgroup
get_cgroup_classid         | int             | ctx                                       | tc+lwt
skb_vlan_push              | int             | ctx, any, any                             | tc
skb_vlan_pop               | int             | ctx                                       | tc
skb_get_tunnel_key         | int             | ctx, mem:uninit, size, any                | tc+lwt_xmit
skb_set_tunnel_key         | int             | ctx, mem:ro, size, any                    | tc+lwt_xmit
perf_event_read            | int             | map, any                                  | tracing
redirect                   | int             | any, any                                  | tc+xdp+lwt_xmit
get_route_realm            | int             | ctx                                       | tc+lwt
perf_event_output          | int             | ctx, map, any, mem:ro, size0              | tracing+skb+xdp+cgroup+sk_msg
skb_load_bytes             | int             | ctx, any, mem:uninit, size                | skb
get_stackid                | int             | ctx, map, any                             | tracing
csum_diff                  | int             | mem:ro?, size0, mem:ro?, size0, any       | tc+xdp+lwt+sk_skb
skb_get_tunnel_opt         | int             | ctx, mem:uninit, size                     | tc+lwt_xmit
skb_set_tunnel_opt         | int             | ctx, mem:ro, size                         | tc+lwt_xmit
skb_change_proto           | int             | ctx, any, any                             | tc
skb_change_type            | int             | ctx, any                                  | tc
skb_under_cgroup           | int             | ctx, map, any                             | tc
get_hash_recalc            | int             | ctx                                       | tc+lwt
get_current_task           | int             |                                           | tracing
probe_write_user           | int             | any, mem:ro, size                         | tracing
current_task_under_cgroup  | int             | map, any                                  | tracing
skb_change_tail            | int             | ctx, any, any                             | tc+sk_skb
skb_pull_data              | int             | ctx, any                                  | tc+sk_skb+lwt
csum_update                | int             | ctx, any                                  | tc
set_hash_invalid           | void            | ctx                                       | tc
get_numa_node_id           | int             |                                           | any
skb_change_head            | int             | ctx, any, any                             | tc+sk_skb
xdp_adjust_head            | int             | ctx, any                                  | xdp
probe_read_str             | int             | mem:uninit, size0, any                    | tracing
get_socket_cookie          | int             | ctx                                       | skb+cgroup+sk_msg
get_socket_uid             | int             | ctx                                       | skb
set_hash                   | int             | ctx, any                                  | tc
setsockopt                 | int             | ctx, any, any, mem:ro, size               | sock_ops+cgroup_sock_addr+cgroup_sock
skb_adjust_room            | int             | ctx, any, any, any                        | tc
redirect_map               | int             | map, any, any                             | xdp
sk_redirect_map            | int             | ctx, map, any, any                        | sk_skb
sock_map_update            | int             | ctx, map, key, any                        | sock_ops
xdp_adjust_meta            | int             | ctx, any                                  | xdp
perf_event_read_value      | int             | map, any, mem:uninit, size                | tracing
perf_prog_read_value       | int             | ctx, mem:uninit, size                     | perf_event
getsockopt                 | int             | ctx, any, any, mem:uninit, size           | sock_ops+cgroup_sock_addr+cgroup_sock
override_return            | int             | ctx, any                                  | kprobe
sock_ops_cb_flags_set      | int             | ctx, any                                  | sock_ops
msg_redirect_map           | int             | ctx, map, any, any                        | sk_msg
msg_apply_bytes            | int             | ctx, any                                  | sk_msg
msg_cork_bytes             | int             | ctx, any                                  | sk_msg
msg_pull_data              | int             | ctx, any, any, any                        | sk_msg
bind                       | int             | ctx, mem:ro, size                         | cgroup_sock_addr
xdp_adjust_tail            | int             | ctx, any                                  | xdp
skb_get_xfrm_state         | int             | ctx, any, mem:uninit, size, any           | tc
get_stack                  | int             | ctx, mem:uninit, size0, any               | tracing
skb_load_bytes_relative    | int             | ctx, any, mem:uninit, size, any           | socket_filter+tc+cgroup_skb+sk_reuseport
fib_lookup                 | int             | ctx, mem, size, any                       | tc+xdp
sock_hash_update           | int             | ctx, map, key, any                        | sock_ops
msg_redirect_hash          | int             | ctx, map, key, any                        | sk_msg
sk_redirect_hash           | int             | ctx, map, key, any                        | sk_skb
lwt_push_encap             | int             | ctx, any, mem:ro, size                    | lwt_in+lwt_xmit
lwt_seg6_store_bytes       | int             | ctx, any, mem:ro, size                    | lwt_seg6local
lwt_seg6_adjust_srh        | int             | ctx, any, any                             | lwt_seg6local
lwt_seg6_action            | int             | ctx, any, mem:ro, size                    | lwt_seg6local
rc_repeat                  | int             | ctx                                       | lirc_mode2
rc_keydown                 | int             | ctx, any, any, any                        | lirc_mode2
skb_cgroup_id              | int             | ctx                                       | tc
get_current_cgroup_id      | int             |                                           | tracing+cgroup
get_local_storage          | map_value       | map, any                                  | cgroup
sk_select_reuseport        | int             | ctx, map, key, any                        | sk_reuseport
skb_ancestor_cgroup_id     | int             | ctx, any                                  | tc
sk_lookup_tcp              | socket? acquire | ctx, mem:ro, size, any, any               | tc+xdp+cgroup_skb+sk_skb+cgroup_sock_addr
sk_lookup_udp              | socket? acquire | ctx, mem:ro, size, any, any               | tc+xdp+cgroup_skb+sk_skb+cgroup_sock_addr
sk_release                 | int             | btf_sock_common:release                   | tc+xdp+cgroup_skb+sk_skb+cgroup_sock_addr
map_push_elem              | int             | map, value:ro, any                        | any
map_pop_elem               | int             | map, value:uninit                         | any
map_peek_elem              | int             | map, value:uninit                         | any
msg_push_data              | int             | ctx, any, any, any                        | sk_msg
msg_pop_data               | int             | ctx, any, any, any                        | sk_msg
rc_pointer_rel             | int             | ctx, any, any                             | lirc_mode2
spin_lock                  | void            | lock                                      | any
spin_unlock                | void            | lock                                      | any
sk_fullsock                | socket?         | sock_common                               | tc+cgroup_skb+sock_ops+sk_skb
tcp_sock                   | tcp_sock?       | sock_common                               | tc+cgroup_skb+sock_ops+sk_skb
skb_ecn_set_ce             | int             | ctx                                       | tc+cgroup_skb
get_listener_sock          | socket?         | sock_common                               | tc+cgroup_skb
skc_lookup_tcp             | sock_common? acquire | ctx, mem:ro, size, any, any          | tc+xdp+cgroup_skb+sk_skb+cgroup_sock_addr
tcp_check_syncookie        | int             | btf_sock_common, mem:ro, size, mem:ro, size | tc+xdp
sysctl_get_name            | int             | ctx, mem:uninit, size, any                | cgroup_sysctl
sysctl_get_current_value   | int             | ctx, mem:uninit, size                     | cgroup_sysctl
sysctl_get_new_value       | int             | ctx, mem:uninit, size                     | cgroup_sysctl
sysctl_set_new_value       | int             | ctx, mem:ro, size                         | cgroup_sysctl
strtol                     | int             | mem:ro, size, any, long                   | any
strtoul                    | int             | mem:ro, size, any, long                   | any
sk_storage_get             | map_value?      | map, btf_sock_common, value:uninit?, any  | net+tracing
sk_storage_delete          | int             | map, btf_sock_common                      | net+tracing
send_signal                | int             | any                                       | tracing
tcp_gen_syncookie          | int             | btf_sock_common, mem:ro, size, mem:ro, size | tc+xdp
skb_output                 | int             | btf=sk_buff, map, any, mem:ro, size0      | btf_tracing
probe_read_user            | int             | mem:uninit, size0, any                    | tracing
probe_read_kernel          | int             | mem:uninit, size0, any                    | tracing
probe_read_user_str        | int             | mem:uninit, size0, any                    | tracing
probe_read_kernel_str      | int             | mem:uninit, size0, any                    | tracing
tcp_send_ack               | int             | btf=tcp_sock, any                         | struct_ops
send_signal_thread         | int             | any                                       | tracing
jiffies64                  | int             |                                           | any
read_branch_records        | int             | ctx, mem:uninit?, size0, any              | perf_event
get_ns_current_pid_tgid    | int             | any, any, mem:uninit, size                | tracing
xdp_output                 | int             | btf=xdp_buff, map, any, mem:ro, size0     | btf_tracing
get_netns_cookie           | int             | ctx?                                      | cgroup_sock+cgroup_sock_addr+sock_ops+sk_msg+cgroup_sockopt
get_current_ancestor_cgroup_id | int         | any                                       | tracing+cgroup
sk_assign                  | int             | ctx, btf_sock_common?, any                | tc+sk_lookup
ktime_get_boot_ns          | int             |                                           | any
seq_printf                 | int             | btf=seq_file, mem:ro, size, mem:ro?, size0 | tracing
seq_write                  | int             | btf=seq_file, mem:ro, size0               | tracing
sk_cgroup_id               | int             | btf_sock_common                           | net
sk_ancestor_cgroup_id      | int             | btf_sock_common, any                      | net
ringbuf_output             | int             | map, mem:ro, size0, any                   | any
ringbuf_reserve            | ringbuf_mem? acquire | map, allocsize0, any                 | any
ringbuf_submit             | void            | ringbuf_mem:release, any                  | any
ringbuf_discard            | void            | ringbuf_mem:release, any                  | any
ringbuf_query              | int             | map, any                                  | any
csum_level                 | int             | ctx, any                                  | tc
skc_to_tcp6_sock           | btf=tcp6_sock?  | btf_sock_common                           | net+tracing
skc_to_tcp_sock            | btf=tcp_sock?   | btf_sock_common                           | net+tracing
skc_to_tcp_timewait_sock   | btf=tcp_timewait_sock? | btf_sock_common                    | net+tracing
skc_to_tcp_request_sock    | btf=tcp_request_sock? | btf_sock_common                     | net+tracing
skc_to_udp6_sock           | btf=udp6_sock?  | btf_sock_common                           | net+tracing
get_task_stack             | int             | btf=task_struct, mem:uninit, size0, any   | tracing
load_hdr_opt               | int             | ctx, mem, size, any                       | sock_ops
store_hdr_opt              | int             | ctx, mem:ro, size, any                    | sock_ops
reserve_hdr_opt            | int             | ctx, any, any                             | sock_ops
inode_storage_get          | map_value?      | map, btf=inode, value:uninit?, any        | lsm
inode_storage_delete       | int             | map, btf=inode                            | lsm
d_path                     | int             | btf=path, mem:uninit, size                | btf_tracing
copy_from_user             | int sleepable   | mem:uninit, size0, any                    | tracing
snprintf_btf               | int             | mem:uninit, size, mem:ro, size, any       | tracing
seq_printf_btf             | int             | btf=seq_file, mem:ro, size0, any          | tracing
skb_cgroup_classid         | int             | ctx                                       | tc
redirect_neigh             | int             | any, mem:ro?, size0, any                  | tc
per_cpu_ptr                | mem_or_btf?     | percpu_btf, any                           | any
this_cpu_ptr               | mem_or_btf      | percpu_btf                                | any
redirect_peer              | int             | any, any                                  | tc
task_storage_get           | map_value?      | map, btf=task_struct, value:uninit?, any  | tracing+cgroup
task_storage_delete        | int             | map, btf=task_struct                      | tracing+cgroup
get_current_task_btf       | btf=task_struct |                                           | tracing
bprm_opts_set              | int             | btf=linux_binprm, any                     | lsm
ktime_get_coarse_ns        | int             |                                           | any
ima_inode_hash             | int sleepable   | btf=inode, mem:uninit, size               | lsm
sock_from_file             | btf=socket?     | btf=file                                  | tracing
check_mtu                  | int             | ctx, any, int, any, any                   | tc+xdp
for_each_map_elem          | int             | map, func, stack?, any                    | any
snprintf                   | int             | mem:uninit?, size0, const_str, mem:ro?, size0 | any
sys_bpf                    | int             | any, mem:ro?, size                        | syscall
btf_find_by_name_kind      | int             | mem:ro, size, any, any                    | syscall
sys_close                  | int             | any                                       | syscall
timer_init                 | int             | timer, map, any                           | any
timer_set_callback         | int             | timer, func                               | any
timer_start                | int             | timer, any, any                           | any
timer_cancel               | int             | timer                                     | any
get_func_ip                | int             | ctx                                       | tracing
get_attach_cookie          | int             | ctx                                       | tracing
task_pt_regs               | btf=pt_regs     | btf=task_struct                           | tracing
get_branch_snapshot        | int             | mem:uninit, size0, any                    | tracing
trace_vprintk              | int             | mem:ro, size, mem:ro?, size0              | any
skc_to_unix_sock           | btf=unix_sock?  | btf_sock_common                           | net+tracing
kallsyms_lookup_name       | int             | mem:ro, size, any, long                   | syscall
find_vma                   | int             | btf=task_struct, any, func, stack?, any   | tracing
loop                       | int             | any, func, stack?, any                    | any
strncmp                    | int             | mem:ro, size, const_str                   | any
get_func_arg               | int             | ctx, any, long                            | btf_tracing
get_func_ret               | int             | ctx, long                                 | btf_tracing
get_func_arg_cnt           | int             | ctx                                       | btf_tracing
get_retval                 | int             |                                           | cgroup+lsm
set_retval                 | int             | any                                       | cgroup+lsm
xdp_get_buff_len           | int             | ctx                                       | xdp
xdp_load_bytes             | int             | ctx, any, mem:uninit, size                | xdp
xdp_store_bytes            | int             | ctx, any, mem:ro, size                    | xdp
copy_from_user_task        | int sleepable   | mem:uninit, size0, any, btf=task_struct, any | tracing
skb_set_tstamp             | int             | ctx, any, any                             | tc
ima_file_hash              | int sleepable   | btf=file, mem:uninit, size                | lsm
kptr_xchg                  | btf=any? acquire | kptr, btf=any?:release                   | any
map_lookup_percpu_elem     | map_value?      | map, key, any                             | any
skc_to_mptcp_sock          | btf=mptcp_sock? | btf_sock_common                           | net+tracing
dynptr_from_mem            | int             | mem:uninit, size0, any, dynptr:uninit     | any
ringbuf_reserve_dynptr     | int acquire     | map, any, any, dynptr:uninit              | any
ringbuf_submit_dynptr      | void            | dynptr:release, any                       | any
ringbuf_discard_dynptr     | void            | dynptr:release, any                       | any
dynptr_read                | int             | mem:uninit, size0, dynptr:ro, any, any    | any
dynptr_write               | int             | dynptr:ro, any, mem:ro, size0, any        | any
dynptr_data                | dynptr_mem?     | dynptr:ro, any, allocsize0                | any
tcp_raw_gen_syncookie_ipv4 | int             | mem:ro, mem:ro, size                      | tc+xdp
tcp_raw_gen_syncookie_ipv6 | int             | mem:ro, mem:ro, size                      | tc+xdp
tcp_raw_check_syncookie_ipv4 | int           | mem:ro, mem:ro                            | tc+xdp
tcp_raw_check_syncookie_ipv6 | int           | mem:ro, mem:ro                            | tc+xdp
ktime_get_tai_ns           | int             |                                           | any
user_ringbuf_drain         | int             | map, func, stack?, any                    | any
cgrp_storage_get           | map_value?      | map, btf=cgroup, value:uninit?, any       | tracing+cgroup
cgrp_storage_delete        | int             | map, btf=cgroup                           | tracing+cgroup
"""

ARG_KINDS = {
    "any": "ANYTHING", "map": "CONST_MAP_PTR", "key": "PTR_TO_MAP_KEY",
    "value": "PTR_TO_MAP_VALUE", "mem": "PTR_TO_MEM", "size": "CONST_SIZE",
    "size0": "CONST_SIZE_OR_ZERO", "allocsize0": "CONST_ALLOC_SIZE_OR_ZERO",
    "ctx": "PTR_TO_CTX", "stack": "PTR_TO_STACK", "func": "PTR_TO_FUNC",
    "lock": "PTR_TO_SPIN_LOCK", "timer": "PTR_TO_TIMER", "ringbuf_mem": "PTR_TO_RINGBUF_MEM",
    "dynptr": "PTR_TO_DYNPTR", "long": "PTR_TO_LONG", "int": "PTR_TO_INT",
    "socket": "PTR_TO_SOCKET", "sock_common": "PTR_TO_SOCK_COMMON",
    "btf_sock_common": "PTR_TO_BTF_ID_SOCK_COMMON", "btf": "PTR_TO_BTF_ID",
    "percpu_btf": "PTR_TO_PERCPU_BTF_ID", "const_str": "PTR_TO_CONST_STR", "kptr": "PTR_TO_KPTR",
}
ARG_FLAGS = {"ro": "RDONLY", "uninit": "UNINIT", "release": "RELEASE"}
RET_KINDS = {
    "int": "INTEGER", "void": "VOID", "map_value": "PTR_TO_MAP_VALUE", "socket": "PTR_TO_SOCKET",
    "tcp_sock": "PTR_TO_TCP_SOCK", "sock_common": "PTR_TO_SOCK_COMMON",
    "ringbuf_mem": "PTR_TO_RINGBUF_MEM", "dynptr_mem": "PTR_TO_DYNPTR_MEM",
    "mem_or_btf": "PTR_TO_MEM_OR_BTF_ID", "btf": "PTR_TO_BTF_ID",
}
PROG_CLASSES = {
    "any": "COMB_PROGS_ANY", "tracing": "COMB_PROGS_TRACING", "btf_tracing": "COMB_PROGS_BTF_TRACING",
    "tc": "COMB_PROGS_TC", "xdp": "COMB_PROGS_XDP", "lwt": "COMB_PROGS_LWT", "skb": "COMB_PROGS_SKB",
    "cgroup": "COMB_PROGS_CGROUP", "net": "COMB_PROGS_NET",
}
PROG_TYPES = (
    "socket_filter kprobe sched_cls sched_act tracepoint xdp perf_event cgroup_skb cgroup_sock "
    "lwt_in lwt_out lwt_xmit sock_ops sk_skb cgroup_device sk_msg raw_tracepoint cgroup_sock_addr "
    "lwt_seg6local lirc_mode2 sk_reuseport flow_dissector cgroup_sysctl raw_tracepoint_writable "
    "cgroup_sockopt tracing struct_ops ext lsm sk_lookup syscall").split()

# Context structs a helper's first argument names: the helper belongs to that program family.
CTX_STRUCTS = {
    "__sk_buff": "skb", "xdp_md": "xdp", "bpf_sock_ops": "sock_ops", "pt_regs": "tracing",
    "sk_msg_md": "sk_msg", "bpf_sock_addr": "cgroup_sock_addr", "bpf_sysctl": "cgroup_sysctl",
    "sk_reuseport_md": "sk_reuseport", "bpf_perf_event_data": "perf_event",
}
TRACING_PREFIXES = ("probe_", "get_current_", "get_stack", "perf_event_read", "send_signal",
                    "d_path", "seq_", "get_func_", "copy_from_user", "get_task_stack")

DEF_RE = re.compile(r"^static (.+?)\(\*\s*(?:const\s+)?(bpf_\w+)\)\((.*)\) = \(void \*\) (\d+);$")


def parse_defs(path):
    """Yield (id, name, ret_c, [c args]) for each helper in bpf_helper_defs.h."""
    with open(path) as f:
        for line in f:
            m = DEF_RE.match(line.strip())
            if m:
                ret_c, name, args, hid = m.groups()
                args = [a.strip() for a in args.split(",")]
                args = [a for a in args if a not in ("void", "...", "")]
                yield int(hid), name, ret_c.strip(), args


def c_arg_name(c):
    return re.split(r"[\s*]+", c.strip())[-1]


def is_pointer(c):
    return "*" in c


def guess_arg(c, prev):
    """Kind and flags of one argument from its C declaration."""
    name = c_arg_name(c)
    struct = re.search(r"struct (\w+)", c)
    if not is_pointer(c):
        if prev and is_pointer(prev) and re.search(r"(size|len)$", name):
            return ("size0", [], None)
        return ("any", [], None)
    if struct:
        s = struct.group(1)
        if s in CTX_STRUCTS:
            return ("ctx", [], None)
        special = {"bpf_spin_lock": "lock", "bpf_dynptr": "dynptr", "bpf_timer": "timer",
                   "bpf_sock": "sock_common"}
        if s in special:
            return (special[s], [], None)
        return ("btf", [], s)
    if name == "map":
        return ("map", [], None)
    if name == "ctx":
        return ("ctx", [], None)
    if "callback" in name:
        return ("func", [], None)
    if "unsafe" in name:
        return ("any", [], None)
    return ("mem", ["ro"] if "const" in c else [], None)


def guess(name, ret_c, c_args):
    """A prototype from the C signature alone (used when OVERRIDES has none)."""
    args, prev = [], None
    for c in c_args:
        kind, flags, btf = guess_arg(c, prev)
        args.append((kind, flags, False, btf))
        prev = c
    # A memory argument followed by its size.
    for i, (kind, flags, null, btf) in enumerate(args):
        if kind == "mem" and (i + 1 >= len(args) or args[i + 1][0] not in ("size", "size0")):
            args[i] = ("any", [], False, None)
    ret, ret_btf, ret_null = "int", None, False
    if ret_c == "void":
        ret = "void"
    elif "*" in ret_c:
        struct = re.search(r"struct (\w+)", ret_c)
        ret, ret_btf, ret_null = ("btf", struct.group(1), True) if struct else ("mem_or_btf", None, True)
    progs = "any"
    first = re.search(r"struct (\w+)", c_args[0]) if c_args else None
    if first and first.group(1) in CTX_STRUCTS:
        progs = CTX_STRUCTS[first.group(1)]
    elif name[4:].startswith(TRACING_PREFIXES):
        progs = "tracing"
    return dict(ret=ret, ret_btf=ret_btf, ret_null=ret_null, ret_words=[], args=args,
                progs=progs, reviewed=False)


def parse_arg(tok):
    null = tok.endswith("?")
    tok = tok.rstrip("?")
    parts = tok.split(":")
    kind, flags = parts[0], parts[1:]
    btf = None
    if kind.startswith("btf="):
        kind, btf = "btf", kind[4:].rstrip("?")
        null = null or parts[0].endswith("?")
    if kind not in ARG_KINDS or any(f not in ARG_FLAGS for f in flags):
        raise SystemExit(f"gen_helper_protos: bad argument '{tok}'")
    return (kind, flags, null, btf)


def parse_overrides():
    table = {}
    for line in OVERRIDES.strip().splitlines():
        name, ret, args, progs = [f.strip() for f in line.split("|")]
        words = ret.split()
        r = words[0]
        ret_null = r.endswith("?")
        r = r.rstrip("?")
        ret_btf = None
        if r.startswith("btf="):
            r, ret_btf = "btf", r[4:]
        if r not in RET_KINDS:
            raise SystemExit(f"gen_helper_protos: {name}: bad return '{ret}'")
        table["bpf_" + name] = dict(
            ret=r, ret_btf=ret_btf, ret_null=ret_null, ret_words=words[1:],
            args=[parse_arg(a.strip()) for a in args.split(",") if a.strip()],
            progs=progs, reviewed=True)
    return table


def progs_expr(progs):
    out = []
    for p in progs.split("+"):
        if p in PROG_CLASSES:
            out.append(PROG_CLASSES[p])
        elif p in PROG_TYPES:
            out.append(f"COMB_PROG_BIT(BPF_PROG_TYPE_{p.upper()})")
        else:
            raise SystemExit(f"gen_helper_protos: unknown program type '{p}'")
    return " | ".join(out)


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def emit(hid, name, ret_c, c_args, p):
    flags = []
    if p["reviewed"]:
        flags.append("COMB_HELPER_REVIEWED")
    if p["ret_null"]:
        flags.append("COMB_HELPER_RET_MAYBE_NULL")
    if "acquire" in p["ret_words"]:
        flags.append("COMB_HELPER_ACQUIRE")
    if "sleepable" in p["ret_words"]:
        flags.append("COMB_HELPER_SLEEPABLE")
    args = []
    for kind, aflags, null, btf in p["args"]:
        f = [f"COMB_ARG_F_{ARG_FLAGS[x]}" for x in aflags] + (["COMB_ARG_F_MAYBE_NULL"] if null else [])
        args.append("{ COMB_ARG_%s, %s, %s }" % (ARG_KINDS[kind], " | ".join(f) or "0",
                                                c_string(btf) if btf else "NULL"))
    sep = "" if ret_c.endswith("*") else " "
    sig = f"{ret_c}{sep}({', '.join(c_args) or 'void'})"
    print(f"\t[{hid}] = {{")
    print(f"\t\t.id = {hid}, .name = {c_string(name)},")
    print(f"\t\t.signature = {c_string(sig)},")
    print(f"\t\t.ret = COMB_RET_{RET_KINDS[p['ret']]}, .ret_btf = "
          f"{c_string(p['ret_btf']) if p['ret_btf'] else 'NULL'},")
    print(f"\t\t.flags = {' | '.join(flags) or '0'}, .nargs = {len(args)},")
    if args:
        print("\t\t.args = {")
        for a in args:
            print(f"\t\t\t{a},")
        print("\t\t},")
    print(f"\t\t.progs = {progs_expr(p['progs'])},")
    print("\t},")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DEFS
    overrides = parse_overrides()
    helpers = list(parse_defs(path))
    if not helpers:
        raise SystemExit(f"gen_helper_protos: no helper found in {path}")
    names = {h[1] for h in helpers}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise SystemExit(f"gen_helper_protos: overrides for unknown helpers: {', '.join(unknown)}")
    print("/* src/verifier/helper_protos_table.h - GENERATED by scripts/gen_helper_protos.py")
    print(f" * from {path}: do not edit; change the script's OVERRIDES and rerun it.")
    print(" * Included once, by src/verifier/helper_protos.c. */")
    print(f"#define COMB_HELPER_TABLE_MAX_ID {max(h[0] for h in helpers)}")
    print("static const struct comb_helper_proto helper_table[COMB_HELPER_TABLE_MAX_ID + 1] = {")
    for hid, name, ret_c, c_args in sorted(helpers):
        p = overrides.get(name) or guess(name, ret_c, c_args)
        if len(p["args"]) > 5:
            raise SystemExit(f"gen_helper_protos: {name} has more than 5 arguments")
        if len(p["args"]) != len(c_args):
            raise SystemExit(f"gen_helper_protos: {name}: {len(p['args'])} arguments in OVERRIDES, "
                             f"{len(c_args)} in its C signature")
        emit(hid, name, ret_c, c_args, p)
    print("};")


if __name__ == "__main__":
    main()
