#!/usr/bin/python3
"""examples/ddos-mitigator/make_pcap.py - write attack.pcap, the mitigator's test traffic.

Every packet goes to the protected server 198.51.100.10 (MAC 02:00:00:00:00:01).
The traffic mixes (addresses from the documentation and benchmarking ranges):
  legit      192.0.2.1-20     one TCP connection each (SYN, data, FIN): 12 packets
  resolver   192.0.2.53:53    small DNS answers (legitimate UDP from port 53)
  allowed    192.0.2.200      monitoring host on the allow list: 150 pings
  heavy      192.0.2.100      a single client sending 300 UDP packets (rate limit)
  denied     203.0.113.0/24   a network on the deny list: 30 TCP packets
  synflood   198.18.0.1-4     60 SYNs each to port 80
  dns-amp    198.18.1.1-8     DNS answers of 1100 bytes (amplification)
  ntp-amp    198.18.2.1-8     NTP monlist replies of 448 bytes (amplification)
  other      IPv6 and ARP     passed untouched (the mitigator is IPv4-only)
The streams are merged in a seeded random order and timestamped 100 us
apart, so the file is the same on every run. Usage: make_pcap.py [OUT]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import pcaplib  # noqa: E402  (examples/pcaplib.py: merge, timestamps, write)

from scapy.all import ARP, DNS, DNSQR, DNSRR, ICMP, IP, TCP, UDP, Ether, IPv6, Raw

SERVER_MAC, ROUTER_MAC = "02:00:00:00:00:01", "02:00:00:00:00:fe"
SERVER = "198.51.100.10"


def eth():
    return Ether(src=ROUTER_MAC, dst=SERVER_MAC)


def tcp_connection(src, sport, dport=443, data_packets=10):
    seq = 1000
    pkts = [eth() / IP(src=src, dst=SERVER) / TCP(sport=sport, dport=dport, flags="S", seq=seq)]
    pkts.append(eth() / IP(src=src, dst=SERVER) / TCP(sport=sport, dport=dport, flags="A", seq=seq + 1, ack=1))
    for i in range(data_packets - 1):
        payload = bytes((i + j) & 0xFF for j in range(100))
        pkts.append(eth() / IP(src=src, dst=SERVER) /
                    TCP(sport=sport, dport=dport, flags="PA", seq=seq + 1 + 100 * i, ack=1) / Raw(payload))
    pkts.append(eth() / IP(src=src, dst=SERVER) / TCP(sport=sport, dport=dport, flags="FA", seq=seq + 1000, ack=1))
    return pkts


def streams():
    s = {}
    s["legit"] = [p for i in range(1, 21) for p in tcp_connection(f"192.0.2.{i}", 40000 + i)]
    s["resolver"] = [eth() / IP(src="192.0.2.53", dst=SERVER) / UDP(sport=53, dport=33000 + i) /
                     DNS(id=i, qr=1, qd=DNSQR(qname=f"host{i}.example.com"),
                         an=DNSRR(rrname=f"host{i}.example.com", rdata="192.0.2.80"))
                     for i in range(20)]
    s["allowed"] = [eth() / IP(src="192.0.2.200", dst=SERVER) / ICMP(id=7, seq=i) / Raw(b"m" * 32)
                    for i in range(150)]
    s["heavy"] = [eth() / IP(src="192.0.2.100", dst=SERVER) / UDP(sport=5353, dport=5000) / Raw(b"h" * 64)
                  for _ in range(300)]
    s["denied"] = [eth() / IP(src=f"203.0.113.{1 + i % 3}", dst=SERVER) / TCP(sport=1024 + i, dport=22, flags="S")
                   for i in range(30)]
    s["synflood"] = [eth() / IP(src=f"198.18.0.{1 + i % 4}", dst=SERVER) / TCP(sport=1024 + i, dport=80, flags="S")
                     for i in range(240)]
    big_answer = DNSRR(rrname="example.com", type="TXT", rdata=["x" * 250] * 4)
    s["dns-amp"] = [eth() / IP(src=f"198.18.1.{1 + i % 8}", dst=SERVER) / UDP(sport=53, dport=80) /
                    DNS(id=i, qr=1, qd=DNSQR(qname="example.com", qtype="ANY"), an=big_answer)
                    for i in range(40)]
    s["ntp-amp"] = [eth() / IP(src=f"198.18.2.{1 + i % 8}", dst=SERVER) / UDP(sport=123, dport=80) /
                    Raw(bytes([0xD7, 0x00, 0x03, 0x2A]) + bytes(444))
                    for i in range(40)]
    s["other"] = ([eth() / IPv6(src="2001:db8::1", dst="2001:db8::10") / UDP(sport=1000, dport=53) for _ in range(5)] +
                  [Ether(src=ROUTER_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="198.51.100.1", pdst=SERVER)
                   for _ in range(5)])
    return s


if __name__ == "__main__":
    pcaplib.main(streams().values(), "attack.pcap", seed=42, step=0.0001)
