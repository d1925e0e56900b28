#!/usr/bin/python3
"""tests/e2e/xdp_kernel_replay.py - replay a pcap through an XDP program in the kernel.

The reference for tests/e2e/examples.sh: the object is opened and loaded by
libbpf (through ctypes; maps are never pinned: pin paths are cleared before
load), the maps are filled from --update arguments, then every packet of the
pcap runs once through BPF_PROG_TEST_RUN, in order, sharing the maps as live
traffic would. Output, one line per packet, in the format of
`comb xdp --verdicts`:  INDEX ACTION LENGTH   (with --bytes: and the packet
as the program left it, in hex). After the packets:
  --records MAP      each ring buffer record, as `record HEX`
  --percpu-sum MAP   each key of a per-CPU array of u64: `MAP[KEY] = SUM`
Usage: xdp_kernel_replay.py OBJ PCAP [--prog NAME] [--update MAP KEYHEX VALHEX]...
                            [--bytes] [--records MAP] [--percpu-sum MAP]
Exit status 77 when the kernel refuses bpf() (not root, no BPF).
"""
import ctypes as C
import struct
import sys

ACTIONS = ["ABORTED", "DROP", "PASS", "TX", "REDIRECT"]


class TestRunOpts(C.Structure):
    _fields_ = [("sz", C.c_size_t), ("data_in", C.c_void_p), ("data_out", C.c_void_p),
                ("data_size_in", C.c_uint32), ("data_size_out", C.c_uint32),
                ("ctx_in", C.c_void_p), ("ctx_out", C.c_void_p),
                ("ctx_size_in", C.c_uint32), ("ctx_size_out", C.c_uint32),
                ("retval", C.c_uint32), ("repeat", C.c_int), ("duration", C.c_uint32),
                ("flags", C.c_uint32), ("cpu", C.c_uint32), ("batch_size", C.c_uint32)]


def load_libbpf():
    lib = C.CDLL("libbpf.so.1", use_errno=True)
    vp, i = C.c_void_p, C.c_int
    sigs = {
        "bpf_object__open_file": (vp, [C.c_char_p, vp]),
        "bpf_object__load": (i, [vp]),
        "bpf_object__close": (None, [vp]),
        "bpf_object__next_map": (vp, [vp, vp]),
        "bpf_object__next_program": (vp, [vp, vp]),
        "bpf_object__find_program_by_name": (vp, [vp, C.c_char_p]),
        "bpf_object__find_map_fd_by_name": (i, [vp, C.c_char_p]),
        "bpf_map__set_pin_path": (i, [vp, C.c_char_p]),
        "bpf_program__fd": (i, [vp]),
        "bpf_map_update_elem": (i, [i, vp, vp, C.c_uint64]),
        "bpf_map_lookup_elem": (i, [i, vp, vp]),
        "bpf_prog_test_run_opts": (i, [i, C.POINTER(TestRunOpts)]),
        "libbpf_num_possible_cpus": (i, []),
        "ring_buffer__new": (vp, [i, vp, vp, vp]),
        "ring_buffer__consume": (i, [vp]),
        "ring_buffer__free": (None, [vp]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


def read_pcap(path):
    with open(path, "rb") as f:
        raw = f.read()
    magic = raw[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        sys.exit(f"{path}: not a pcap file")
    off, packets = 24, []
    while off + 16 <= len(raw):
        _, _, incl, _ = struct.unpack_from(endian + "IIII", raw, off)
        packets.append(raw[off + 16:off + 16 + incl])
        off += 16 + incl
    return packets


def parse_args(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    opts = {"obj": argv[1], "pcap": argv[2], "prog": None, "updates": [], "bytes": False,
            "records": None, "percpu": []}
    i = 3
    while i < len(argv):
        a = argv[i]
        if a == "--prog":
            opts["prog"] = argv[i + 1]; i += 2
        elif a == "--update":
            opts["updates"].append(tuple(argv[i + 1:i + 4])); i += 4
        elif a == "--bytes":
            opts["bytes"] = True; i += 1
        elif a == "--records":
            opts["records"] = argv[i + 1]; i += 2
        elif a == "--percpu-sum":
            opts["percpu"].append(argv[i + 1]); i += 2
        else:
            sys.exit(f"xdp_kernel_replay: unknown argument {a}")
    return opts


def map_fd(lib, obj, name):
    fd = lib.bpf_object__find_map_fd_by_name(obj, name.encode())
    if fd < 0:
        sys.exit(f"xdp_kernel_replay: no map named {name}")
    return fd


def open_and_load(lib, path):
    obj = lib.bpf_object__open_file(path.encode(), None)
    if not obj:
        sys.exit(f"xdp_kernel_replay: cannot open {path} (errno {C.get_errno()})")
    m = lib.bpf_object__next_map(obj, None)
    while m:
        lib.bpf_map__set_pin_path(m, None)  # never pin anything in the kernel
        m = lib.bpf_object__next_map(obj, m)
    if lib.bpf_object__load(obj) != 0:
        print(f"xdp_kernel_replay: the kernel refused {path} (errno {C.get_errno()})", file=sys.stderr)
        sys.exit(77)
    return obj


def main():
    opts = parse_args(sys.argv)
    lib = load_libbpf()
    obj = open_and_load(lib, opts["obj"])
    prog = (lib.bpf_object__find_program_by_name(obj, opts["prog"].encode()) if opts["prog"]
            else lib.bpf_object__next_program(obj, None))
    if not prog:
        sys.exit("xdp_kernel_replay: program not found")
    prog_fd = lib.bpf_program__fd(prog)
    for name, key, value in opts["updates"]:
        k, v = bytes.fromhex(key), bytes.fromhex(value)
        if lib.bpf_map_update_elem(map_fd(lib, obj, name), k, v, 0) != 0:
            sys.exit(f"xdp_kernel_replay: update of {name} failed (errno {C.get_errno()})")

    records = []
    callback = C.CFUNCTYPE(C.c_int, C.c_void_p, C.c_void_p, C.c_size_t)(
        lambda _ctx, data, size: records.append(C.string_at(data, size)) or 0)
    rb = None
    if opts["records"]:
        rb = lib.ring_buffer__new(map_fd(lib, obj, opts["records"]), callback, None, None)
        if not rb:
            sys.exit("xdp_kernel_replay: ring_buffer__new failed")

    out = C.create_string_buffer(65536 + 512)
    for index, pkt in enumerate(read_pcap(opts["pcap"])):
        run = TestRunOpts(sz=C.sizeof(TestRunOpts), data_in=C.cast(C.c_char_p(pkt), C.c_void_p),
                          data_out=C.cast(out, C.c_void_p), data_size_in=len(pkt),
                          data_size_out=C.sizeof(out), repeat=1)
        if lib.bpf_prog_test_run_opts(prog_fd, C.byref(run)) != 0:
            print(f"{index} ERROR errno={C.get_errno()}")
            continue
        action = ACTIONS[run.retval] if run.retval < len(ACTIONS) else "ABORTED"
        line = f"{index} {action} {run.data_size_out}"
        if opts["bytes"]:
            line += " " + out.raw[:run.data_size_out].hex()
        print(line)
        if rb:
            lib.ring_buffer__consume(rb)

    for rec in records:
        print("record " + rec.hex())
    ncpus = lib.libbpf_num_possible_cpus()
    for name in opts["percpu"]:
        fd, key, buf = map_fd(lib, obj, name), 0, C.create_string_buffer(8 * ncpus)
        while lib.bpf_map_lookup_elem(fd, struct.pack("<I", key), buf) == 0:
            print(f"{name}[{key}] = {sum(struct.unpack('<%dQ' % ncpus, buf.raw))}")
            key += 1
    if rb:
        lib.ring_buffer__free(rb)
    lib.bpf_object__close(obj)


if __name__ == "__main__":
    main()
