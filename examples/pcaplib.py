"""examples/pcaplib.py - what the examples' make_pcap.py generators share.

Each generator builds its own streams of scapy packets (one list per flow or
kind of traffic); this module merges them in a seeded random order (so a
flow's packets keep their order but flows interleave), stamps the packets a
fixed step apart and writes the pcap. The same seed gives the same file, byte
for byte, on every run. Each make_pcap.py puts examples/ on sys.path and
ends with pcaplib.main(its streams, its default file name, seed, step).
"""
import random
import sys

from scapy.all import wrpcap

FIRST_TIMESTAMP = 1700000000


def merge(queues, seed):
    """Interleave the lists in queues: each packet comes from a list picked at
    random, weighted by how many packets it has left."""
    rng = random.Random(seed)
    queues = [list(q) for q in queues]
    out = []
    while any(queues):
        q = rng.choices(queues, weights=[len(q) for q in queues])[0]
        out.append(q.pop(0))
    return out


def write_merged(out, queues, seed, step):
    """Merge queues, timestamp the packets step seconds apart, write out."""
    pkts = merge(queues, seed)
    for i, p in enumerate(pkts):
        p.time = FIRST_TIMESTAMP + i * step
    wrpcap(out, pkts)
    print(f"{out}: {len(pkts)} packets")


def main(queues, default_out, seed, step):
    """A generator's entry point: the output file is argv[1] or default_out."""
    out = sys.argv[1] if len(sys.argv) > 1 else default_out
    write_merged(out, queues, seed, step)
