#!/usr/bin/env python3
"""Capture real rtnetlink bytes from the running kernel for the netlink codec
tests, and print them as a TypeScript fixture module (kernel-fixtures.ts).

Run as root, inside a throw-away network namespace so the fixture holds no
addresses of the capturing machine (only lo, 2001:db8::/32 documentation
addresses and veth/bridge devices with fixed locally-administered MACs):

  ADDR_REQ=$(...encodeDumpRequest('addr', 1) as hex...)
  LINK_REQ=$(...encodeDumpRequest('link', 2) as hex...)
  ns=nltest-$$; ip netns add $ns
  ip netns exec $ns python3 test/unit/netlink/capture.py $ADDR_REQ $LINK_REQ \
      > test/unit/netlink/kernel-fixtures.ts
  ip netns del $ns

The two dump requests are the codec's own output (the test checks that
encodeDumpRequest still produces exactly these bytes), so a reply here also
proves the kernel accepted them.
"""

import os
import select
import socket
import struct
import subprocess
import sys
import time

SOL_NETLINK = 270
NETLINK_EXT_ACK = 11
NETLINK_GET_STRICT_CHK = 12
RTMGRP_LINK = 0x1
RTMGRP_IPV6_IFADDR = 0x100
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_GETLINK, RTM_NEWADDR, RTM_GETADDR = 18, 20, 22
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True)


def nl_socket(groups=0):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((0, groups))
    return s


def msg_types(data):
    off, out = 0, []
    while off + 16 <= len(data):
        ln, ty = struct.unpack_from('=IH', data, off)
        if ln < 16:
            break
        out.append(ty)
        off += (ln + 3) & ~3
    return out


def transact(s, req):
    """Send one request, collect datagrams until NLMSG_DONE or NLMSG_ERROR."""
    s.sendto(req, (0, 0))
    grams = []
    while True:
        data = s.recv(1 << 20)
        grams.append(data)
        types = msg_types(data)
        if NLMSG_DONE in types or NLMSG_ERROR in types:
            return grams


def drain(s, quiet=0.3, total=None):
    """Collect datagrams until `quiet` seconds pass without one (or `total` elapses)."""
    grams, start = [], time.monotonic()
    while True:
        if total is not None:
            left = total - (time.monotonic() - start)
            if left <= 0:
                break
            timeout = left
        else:
            timeout = quiet
        r, _, _ = select.select([s], [], [], timeout)
        if not r:
            if total is None:
                break
            continue
        grams.append(s.recv(1 << 20))
    return grams


def ts_array(name, doc, grams):
    lines = [f'/** {doc} */', f'export const {name}: readonly string[] = [']
    for g in grams:
        lines.append(f"  '{g.hex()}',")
    lines.append('];')
    return '\n'.join(lines)


def main():
    addr_req = bytes.fromhex(sys.argv[1])
    link_req = bytes.fromhex(sys.argv[2])
    out = []

    # --- dumps: lo up with ::1 and a nodad documentation address ------------
    sh('ip link set lo up')
    sh('ip -6 addr add 2001:db8::1/64 dev lo nodad')
    s = nl_socket()
    out.append(ts_array('ADDR_DUMP', 'RTM_GETADDR AF_INET6 dump reply (request seq 1): ::1 and 2001:db8::1/64 on lo.',
                        transact(s, addr_req)))
    out.append(ts_array('LINK_DUMP', 'RTM_GETLINK dump reply (request seq 2): lo only.', transact(s, link_req)))

    # --- errors and ACK -----------------------------------------------------
    # RTM_GETLINK (not a dump) for ifindex 9999, with NLM_F_ACK: ENODEV.
    req = struct.pack('=IHHII', 32, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, 3, 0) + struct.pack('=BBHiII', 0, 0, 0, 9999, 0, 0)
    out.append(ts_array('ERROR_ENODEV', 'RTM_GETLINK ifindex 9999 (seq 3): NLMSG_ERROR -ENODEV, request echoed.', transact(s, req)))
    # Strict checking + extended ACK: a dump request with a nonzero prefixlen is rejected with a message.
    s2 = nl_socket()
    s2.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    s2.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
    bad = bytearray(addr_req)
    struct.pack_into('=I', bad, 8, 4)  # seq 4
    bad[17] = 64  # ifa_prefixlen
    out.append(ts_array('ERROR_EXTACK', 'Strict-checked RTM_GETADDR dump with ifa_prefixlen 64 (seq 4): -EINVAL with NLMSGERR_ATTR_MSG.',
                        transact(s2, bytes(bad))))
    s2.close()
    # RTM_NEWADDR 2001:db8::2/64 nodad on lo with NLM_F_ACK: ACK (error 0).
    ifa = struct.pack('=BBBBI', 10, 64, 0x02, 0, 1)
    addr = bytes.fromhex('20010db8000000000000000000000002')
    attr = struct.pack('=HH', 20, 2) + addr  # IFA_LOCAL
    req = struct.pack('=IHHII', 16 + 8 + 20, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | 0x400 | 0x200, 5, 0) + ifa + attr
    out.append(ts_array('ACK', 'RTM_NEWADDR 2001:db8::2/64 nodad on lo with NLM_F_ACK (seq 5): NLMSG_ERROR 0.', transact(s, req)))
    s.close()

    # --- notifications: one veth's life -------------------------------------
    mon = nl_socket(RTMGRP_LINK | RTMGRP_IPV6_IFADDR)
    steps = [
        ('create', 'ip link add v0 address 02:00:00:00:00:01 type veth peer name v1 address 02:00:00:00:00:02', None),
        ('up', 'ip link set v0 up && ip link set v1 up', 2.5),
        ('addTentative', 'ip -6 addr add 2001:db8:1::1/64 dev v0', None),
        ('dadDone', 'true', 2.5),
        ('deprecate', 'ip -6 addr change 2001:db8:1::1/64 dev v0 preferred_lft 0', None),
        ('carrierDown', 'ip link set v1 down', None),
        ('carrierUp', 'ip link set v1 up', 2.5),
        ('delete', 'ip -6 addr del 2001:db8:1::1/64 dev v0', None),
        ('dadFailed', 'ip -6 addr add 2001:db8:1::99/64 dev v1 nodad && ip -6 addr add 2001:db8:1::99/64 dev v0', 2.5),
        ('adminDown', 'ip -6 addr add 2001:db8:1::2/64 dev v0 nodad && ip link set v0 down', None),
        ('destroy', 'ip link del v0', None),
        ('bridgePort', 'ip link add br0 address 02:00:00:00:00:10 type bridge'
                       ' && ip link add v2 address 02:00:00:00:00:03 type veth peer name v3 address 02:00:00:00:00:04'
                       ' && ip link set v2 master br0', None),
        ('bridgeRelease', 'ip link set v2 nomaster', None),
    ]
    for name, cmd, wait in steps:
        sh(cmd)
        grams = drain(mon, total=wait) if wait else drain(mon)
        out.append(ts_array('MON_' + name, f'Notifications after: {cmd}' + (f' (then {wait}s)' if wait else ''), grams))
    mon.close()

    print('// Generated by test/unit/netlink/capture.py from a real kernel in a fresh')
    print(f'// network namespace (kernel {os.uname().release}); do not edit. Each string is one')
    print('// datagram as received (hex). See capture.py for what produced each array.')
    print()
    print(f"export const KERNEL_RELEASE = '{os.uname().release}';")
    print(f"export const ADDR_REQUEST = '{addr_req.hex()}';")
    print(f"export const LINK_REQUEST = '{link_req.hex()}';")
    print()
    print('\n\n'.join(out))


if __name__ == '__main__':
    main()
