# examples/ipv4-checksum/checksum.s - the Internet checksum (RFC 1071) in eBPF.
#
# Input: r1 points to the bytes, r2 holds their length (even).
# Output: r0 = the ones' complement of the ones' complement sum of the
# big-endian 16-bit words. Over an IPv4 header whose checksum field is zero
# this is the value to store there; over a header with a correct checksum it
# is 0.
        mov %r0, 0              # running sum
        mov %r3, 0              # offset
loop:
        jge %r3, %r2, fold      # done with every word?
        mov %r4, %r1
        add %r4, %r3
        ldxh %r5, [%r4]         # the next 16-bit word (host order)...
        be16 %r5                # ...as the network sees it
        add %r0, %r5
        add %r3, 2
        ja loop
fold:
        mov %r4, %r0            # fold the carries back in, twice
        rsh %r4, 16
        and %r0, 0xffff
        add %r0, %r4
        mov %r4, %r0
        rsh %r4, 16
        add %r0, %r4
        and %r0, 0xffff
        xor %r0, 0xffff         # ones' complement
        exit
