#!/usr/bin/python3
"""examples/flow-monitor/make_pcap.py - write traffic.pcap, the flow monitor's test traffic.

Seen from a server 198.51.100.10 (MAC 02:00:00:00:00:01), both directions:
  web     12 HTTP connections from 192.0.2.1-12: handshake, request, a reply
          of 3 + i packets, FIN in both directions
  reset    3 connections from 192.0.2.21-23 that the server resets
  bulk     one download (192.0.2.50): 100 data packets of 1000 bytes to the client
  dns     10 UDP query/answer pairs from 192.0.2.60 (one flow each way)
  ping     ICMP echo from 192.0.2.70 (8 requests, 8 replies)
  other    IPv6 and ARP (not counted)
Streams are merged in a seeded random order, timestamps 500 us apart, so the
file is the same on every run. Usage: make_pcap.py [OUT]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import pcaplib  # noqa: E402  (examples/pcaplib.py: merge, timestamps, write)

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPv6, Raw

SRV_MAC, GW_MAC = "02:00:00:00:00:01", "02:00:00:00:00:fe"
SRV = "198.51.100.10"


def to_srv(src, l4):
    return Ether(src=GW_MAC, dst=SRV_MAC) / IP(src=src, dst=SRV) / l4


def from_srv(dst, l4):
    return Ether(src=SRV_MAC, dst=GW_MAC) / IP(src=SRV, dst=dst) / l4


def tcp_session(client, cport, sport, reply_packets, reply_size, close="FIN"):
    c = lambda fl, data=b"": to_srv(client, TCP(sport=cport, dport=sport, flags=fl) / Raw(data))
    s = lambda fl, data=b"": from_srv(client, TCP(sport=sport, dport=cport, flags=fl) / Raw(data))
    pkts = [c("S"), s("SA"), c("A"), c("PA", b"GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n")]
    pkts += [s("A", bytes(reply_size)) for _ in range(reply_packets)]
    if close == "FIN":
        pkts += [s("FA"), c("FA"), s("A")]
    else:
        pkts += [s("R")]
    return pkts


def streams():
    out = [tcp_session(f"192.0.2.{i}", 41000 + i, 80, 3 + i, 500) for i in range(1, 13)]
    out += [tcp_session(f"192.0.2.{i}", 42000 + i, 8080, 1, 100, close="RST") for i in range(21, 24)]
    out.append(tcp_session("192.0.2.50", 43000, 443, 100, 1000))
    out.append([p for k in range(10) for p in
                (to_srv("192.0.2.60", UDP(sport=5300, dport=53) / Raw(bytes(30 + k))),
                 from_srv("192.0.2.60", UDP(sport=53, dport=5300) / Raw(bytes(90 + k))))])
    out.append([p for k in range(8) for p in
                (to_srv("192.0.2.70", ICMP(type=8, id=9, seq=k)), from_srv("192.0.2.70", ICMP(type=0, id=9, seq=k)))])
    out.append([Ether(src=GW_MAC, dst=SRV_MAC) / IPv6(src="2001:db8::1", dst="2001:db8::10") / UDP() for _ in range(3)] +
               [Ether(src=GW_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="198.51.100.1", pdst=SRV) for _ in range(3)])
    return out


if __name__ == "__main__":
    pcaplib.main(streams(), "traffic.pcap", seed=11, step=0.0005)
