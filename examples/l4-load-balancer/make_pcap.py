#!/usr/bin/python3
"""examples/l4-load-balancer/make_pcap.py - write clients.pcap, the balancer's test traffic.

The balancer (MAC 02:00:00:00:00:01) owns the VIP 198.51.100.100. The file holds:
  tcp   40 client flows (192.0.2.1-40 -> VIP:80): SYN, 3 data packets, FIN
  udp   20 client flows (192.0.2.101-120 -> VIP:53): 3 packets each
  other traffic the balancer must pass: ICMP to the VIP, TCP to the
        balancer's own address, IPv6, ARP (15 packets)
  big   one UDP packet to the VIP too large to encapsulate (1490-byte IP)
The streams are merged in a seeded random order (timestamps 1 ms apart), so
the file is the same on every run. Usage: make_pcap.py [OUT]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import pcaplib  # noqa: E402  (examples/pcaplib.py: merge, timestamps, write)

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPv6, Raw

LB_MAC, ROUTER_MAC = "02:00:00:00:00:01", "02:00:00:00:00:fe"
VIP, LB = "198.51.100.100", "198.51.100.2"


def eth():
    return Ether(src=ROUTER_MAC, dst=LB_MAC)


def streams():
    flows = []
    for i in range(1, 41):
        src, sport = f"192.0.2.{i}", 50000 + i
        flows.append([eth() / IP(src=src, dst=VIP) / TCP(sport=sport, dport=80, flags=fl, seq=1) / Raw(data)
                      for fl, data in [("S", b""), ("PA", b"GET / HTTP/1.1\r\n\r\n"), ("A", b""),
                                       ("PA", b"x" * 200), ("FA", b"")]])
    for i in range(101, 121):
        src = f"192.0.2.{i}"
        flows.append([eth() / IP(src=src, dst=VIP, tos=0x10) / UDP(sport=30000 + i, dport=53) / Raw(b"q" * (20 + k))
                      for k in range(3)])
    other = ([eth() / IP(src="192.0.2.7", dst=VIP) / ICMP(id=1, seq=k) for k in range(5)] +
             [eth() / IP(src="192.0.2.8", dst=LB) / TCP(sport=2222, dport=22, flags="S") for _ in range(4)] +
             [eth() / IPv6(src="2001:db8::1", dst="2001:db8::100") / UDP(sport=1, dport=53) for _ in range(3)] +
             [Ether(src=ROUTER_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="198.51.100.1", pdst=VIP) for _ in range(3)])
    flows.append(other)
    flows.append([eth() / IP(src="192.0.2.200", dst=VIP) / UDP(sport=4000, dport=53) / Raw(bytes(1462))])
    return flows


if __name__ == "__main__":
    pcaplib.main(streams(), "clients.pcap", seed=7, step=0.001)
