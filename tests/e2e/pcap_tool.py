#!/usr/bin/python3
"""tests/e2e/pcap_tool.py - read pcaps for tests/e2e/examples.sh (stdlib only).

  pcap_tool.py summary PCAP     one line per packet:
        INDEX SRC DST PROTO SPORT DPORT TCPFLAGS LEN   (- for fields a packet lacks)
  pcap_tool.py hex PCAP         one line per packet: INDEX HEX
  pcap_tool.py ipip IN VERDICTS TX VIP NEXTHOP_MAC BACKEND...
        checks every TX packet against its input packet as an IPv4-in-IPv4
        encapsulation (RFC 2003) by a load balancer: Ethernet to NEXTHOP_MAC
        from the input's destination MAC, an outer header with a valid
        checksum, protocol 4, TTL 64, total length = inner + 20, destination
        one of the BACKENDs, and the inner packet unchanged. Prints one line
        per flow, `FLOW -> BACKEND` (a flow using two backends is an error),
        then `checked N, errors M`; exit status 1 on errors.
"""
import socket
import struct
import sys


def read_pcap(path):
    with open(path, "rb") as f:
        raw = f.read()
    endian = "<" if raw[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off, pkts = 24, []
    while off + 16 <= len(raw):
        incl = struct.unpack_from(endian + "I", raw, off + 8)[0]
        pkts.append(raw[off + 16:off + 16 + incl])
        off += 16 + incl
    return pkts


def ip4(b):
    return socket.inet_ntoa(b)


def parse(pkt):
    """(src, dst, proto, sport, dport, tcpflags) of an Ethernet/IPv4 packet, or None."""
    if len(pkt) < 34 or pkt[12:14] != b"\x08\x00":
        return None
    ihl = (pkt[14] & 15) * 4
    proto = pkt[23]
    l4 = pkt[14 + ihl:]
    sport = dport = flags = "-"
    if proto in (6, 17) and len(l4) >= 4:
        sport, dport = struct.unpack("!HH", l4[:4])
    if proto == 6 and len(l4) >= 14:
        flags = l4[13]
    return ip4(pkt[26:30]), ip4(pkt[30:34]), proto, sport, dport, flags


def summary(path):
    for i, p in enumerate(read_pcap(path)):
        f = parse(p) or ("-",) * 6
        print(i, *f, len(p))


def checksum_ok(hdr):
    total = sum(struct.unpack("!10H", hdr))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


def ipip(inp, verdicts, tx, vip, nexthop, backends):
    ins, outs = read_pcap(inp), read_pcap(tx)
    tx_idx = [int(l.split()[0]) for l in open(verdicts) if l.split()[1:2] == ["TX"]]
    mac = bytes.fromhex(nexthop.replace(":", ""))
    errors, flows = 0, {}
    if len(tx_idx) != len(outs):
        print(f"error: {len(tx_idx)} TX verdicts but {len(outs)} packets in {tx}")
        errors += 1
    for i, out in zip(tx_idx, outs):
        src = ins[i]
        outer = out[14:34]
        problems = []
        if out[:6] != mac or out[6:12] != src[:6] or out[12:14] != b"\x08\x00":
            problems.append("ethernet header")
        if outer[0] != 0x45 or outer[9] != 4 or outer[8] != 64:
            problems.append("outer version/protocol/ttl")
        if not checksum_ok(outer):
            problems.append("outer checksum")
        if struct.unpack("!H", outer[2:4])[0] != struct.unpack("!H", src[16:18])[0] + 20:
            problems.append("outer total length")
        if ip4(outer[16:20]) not in backends:
            problems.append("backend " + ip4(outer[16:20]))
        if out[34:] != src[14:] or ip4(src[30:34]) != vip:
            problems.append("inner packet")
        if problems:
            errors += 1
            print(f"packet {i}: " + ", ".join(problems))
        f = parse(src)
        key = f"{f[0]}:{f[3]}-{f[1]}:{f[4]}/{f[2]}"
        flows.setdefault(key, set()).add(ip4(outer[16:20]))
    for key in sorted(flows):
        if len(flows[key]) != 1:
            errors += 1
            print(f"flow {key} went to {sorted(flows[key])}")
        print(f"{key} -> {min(flows[key])}")
    print(f"checked {len(tx_idx)}, errors {errors}")
    return 1 if errors else 0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd = sys.argv[1]
    if cmd == "summary":
        summary(sys.argv[2])
    elif cmd == "hex":
        for i, p in enumerate(read_pcap(sys.argv[2])):
            print(i, p.hex())
    elif cmd == "ipip":
        sys.exit(ipip(*sys.argv[2:7], set(sys.argv[7:])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
