#!/usr/bin/env python3
"""tests/e2e/xdp_pcapgen.py - the captures tests/e2e/xdp.sh feeds `comb xdp`.

Writes pcap (or pcapng) files byte by byte with struct, so the tests need
nothing but python3. `xdp_pcapgen.py KIND OUT` where KIND is:
  basic        the packet set below, classic pcap, microsecond timestamps
  pcapng       the same packets as pcapng (SHB, IDB, EPBs)
  trunc-hdr    basic, then a record header cut after 7 bytes
  trunc-data   basic, then a record claiming 100 bytes with 20 present
  bad-magic    a file whose magic number is no capture format
  raw-ip       basic packets without Ethernet under linktype RAW (101)
  short        a 60-byte UDP packet, a 10-byte one, another UDP packet
  many N       N UDP packets (for --count and rates)
`xdp_pcapgen.py dump FILE` prints a classic pcap's records as
`SEC.USEC CAPLEN LEN HEX`, one line each (how the tests read outputs).
The packet set (index: what) is printed on stdout, one line each.
"""
import struct
import sys

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(proto, payload, src="10.0.0.1", dst="10.0.0.2"):
    saddr = bytes(int(x) for x in src.split("."))
    daddr = bytes(int(x) for x in dst.split("."))
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0, saddr, daddr)
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + payload


def eth(ethertype, payload, dst=MAC_B, src=MAC_A):
    return dst + src + struct.pack("!H", ethertype) + payload


def udp(sport, dport, data=b"payload!"):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def tcp(sport, dport):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x02, 8192, 0, 0)


def packet_set():
    """(description, frame) pairs: every verdict of tests/progs/xdp_cli.bpf.c."""
    return [
        ("udp 10.0.0.1:1234 -> 10.0.0.2:53", eth(0x0800, ipv4(17, udp(1234, 53)))),
        ("udp 10.0.0.3:1234 -> 10.0.0.2:80", eth(0x0800, ipv4(17, udp(1234, 80), src="10.0.0.3"))),
        ("udp echo (port 7): TX with MACs swapped", eth(0x0800, ipv4(17, udp(4000, 7)))),
        ("tcp -> port 23: DROP", eth(0x0800, ipv4(6, tcp(5555, 23)))),
        ("tcp -> port 443: PASS", eth(0x0800, ipv4(6, tcp(5555, 443)))),
        ("icmp echo: unknown action 7 -> ABORTED", eth(0x0800, ipv4(1, bytes([8, 0, 0, 0, 0, 1, 0, 1])))),
        ("udp -> port 1000: bpf_redirect(5)", eth(0x0800, ipv4(17, udp(1, 1000)))),
        ("udp -> port 2000: bpf_redirect_map(tx_ports, 2)", eth(0x0800, ipv4(17, udp(1, 2000)))),
        ("arp: PASS", eth(0x0806, bytes(28), dst=b"\xff" * 6)),
        ("udp 10.0.0.1:9 -> 10.0.0.2:53 again", eth(0x0800, ipv4(17, udp(9, 53), dst="10.0.0.2"))),
    ]


def pcap_header(linktype=1):
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)


def pcap_record(i, frame, orig=None):
    return struct.pack("<IIII", 1700000000 + i, 1000 * i + 7, len(frame), orig or len(frame)) + frame


def write_pcap(path, frames, linktype=1, tail=b""):
    with open(path, "wb") as f:
        f.write(pcap_header(linktype))
        for i, frame in enumerate(frames):
            f.write(pcap_record(i, frame))
        f.write(tail)


def pcapng_block(kind, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", kind, n) + body + struct.pack("<I", n)


def write_pcapng(path, frames):
    shb = pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb = pcapng_block(1, struct.pack("<HHI", 1, 0, 65535))  # Ethernet, microseconds
    with open(path, "wb") as f:
        f.write(shb + idb)
        for i, frame in enumerate(frames):
            ts = (1700000000 + i) * 1000000 + 1000 * i + 7
            f.write(pcapng_block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame))
                                 + frame))


def dump(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    if magic != 0xA1B2C3D4 or linktype != 1:
        sys.exit("%s: not a microsecond Ethernet pcap" % path)
    off = 24
    while off < len(data):
        sec, usec, caplen, length = struct.unpack("<IIII", data[off:off + 16])
        print("%d.%06d %d %d %s" % (sec, usec, caplen, length, data[off + 16:off + 16 + caplen].hex()))
        off += 16 + caplen


def main():
    kind, out = sys.argv[1], sys.argv[2]
    if kind == "dump":
        dump(out)
        return
    pkts = packet_set()
    frames = [f for _, f in pkts]
    if kind == "basic":
        write_pcap(out, frames)
    elif kind == "pcapng":
        write_pcapng(out, frames)
    elif kind == "trunc-hdr":
        write_pcap(out, frames, tail=struct.pack("<IIII", 1, 2, 60, 60)[:7])
    elif kind == "trunc-data":
        write_pcap(out, frames, tail=struct.pack("<IIII", 1, 2, 100, 100) + bytes(20))
    elif kind == "bad-magic":
        with open(out, "wb") as f:
            f.write(b"this is not a capture file at all" * 4)
    elif kind == "raw-ip":
        write_pcap(out, [f[14:] for f in frames], linktype=101)
    elif kind == "short":
        pkts = [("udp", frames[0]), ("10 bytes", frames[0][:10]), ("udp", frames[1])]
        write_pcap(out, [f for _, f in pkts])
    elif kind == "many":
        n = int(sys.argv[3])
        pkts = [("udp", eth(0x0800, ipv4(17, udp(1000 + i % 1000, 53))))for i in range(n)]
        write_pcap(out, [f for _, f in pkts])
    else:
        sys.exit("xdp_pcapgen.py: unknown kind " + kind)
    for i, (what, _) in enumerate(pkts):
        print(i, what)


if __name__ == "__main__":
    main()
