#!/usr/bin/env python3
"""Play a scenario of rtnetlink requests against the running kernel and
record what it answers, for the netlink codec's address/route request tests.

Run as root in a fresh, throw-away network namespace:

  unshare --net python3 test/unit/netlink/route_capture.py < scenario.json > result.json

route-live.test.ts does exactly that (when it runs as root) with the
scenario from route-scenario.ts, whose requests are the codec's own output
(encodeAddrRequest / encodeRouteRequest / encodeDumpRequest); with
NETLINK_CAPTURE=1 it also rewrites route-fixtures.ts from the result.

stdin:  {"steps": [{"name": str, "sh": str, "settle": float?} | {"name": str, "send": hex}]}
stdout: {"kernel": release, "iproute2": `ip -V`, "steps": [{"name", "grams": [hex],
         "mon": [hex], "out": str?}]}

A "send" step writes the datagram (one or more requests) to a NETLINK_ROUTE
socket with NETLINK_EXT_ACK and NETLINK_GET_STRICT_CHK set and reads
datagrams until every request's NLMSG_ERROR (or, for dumps, NLMSG_DONE) has
come ("grams").
An "sh" step runs a shell command (iproute2) and records its stdout ("out").
After every step, the notifications a monitor socket (RTMGRP_IPV6_IFADDR |
RTMGRP_IPV6_ROUTE) holds at that moment are recorded ("mon"), without
waiting. Route notifications are queued before the kernel answers, so they
land in their own step; an added IPv6 address is announced from addrconf's
DAD work (even with nodad), before or after the ACK, so it may show up in a
following step.
"""

import json
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
RTMGRP_IPV6_IFADDR = 0x100
RTMGRP_IPV6_ROUTE = 0x400
NLMSG_ERROR, NLMSG_DONE = 2, 3


def nl_socket(groups=0):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((0, groups))
    return s


def seqs_of(data):
    """(type, seq) of every netlink message in a datagram."""
    off, out = 0, []
    while off + 16 <= len(data):
        ln, ty, _fl, sq = struct.unpack_from('=IHHI', data, off)
        if ln < 16:
            break
        out.append((ty, sq))
        off += (ln + 3) & ~3
    return out


def transact(s, req):
    """Send a datagram of one or more requests; read until each has its NLMSG_ERROR / NLMSG_DONE."""
    waiting = {sq for _ty, sq in seqs_of(req)}
    s.sendto(req, (0, 0))
    grams = []
    while waiting:
        r, _, _ = select.select([s], [], [], 5.0)
        if not r:
            raise TimeoutError(f'no answer to seq {sorted(waiting)}')
        data = s.recv(1 << 20)
        grams.append(data)
        for ty, sq in seqs_of(data):
            if ty in (NLMSG_ERROR, NLMSG_DONE):
                waiting.discard(sq)
    return grams


def drain_now(s):
    grams = []
    while select.select([s], [], [], 0)[0]:
        grams.append(s.recv(1 << 20))
    return grams


def main():
    scenario = json.load(sys.stdin)
    req_sock = nl_socket()
    req_sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    req_sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
    mon = nl_socket(RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE)
    out = []
    for step in scenario['steps']:
        rec = {'name': step['name'], 'grams': [], 'mon': []}
        if 'sh' in step:
            p = subprocess.run(step['sh'], shell=True, check=True, capture_output=True, text=True)
            rec['out'] = p.stdout
            if step.get('settle'):
                time.sleep(step['settle'])
        else:
            rec['grams'] = [g.hex() for g in transact(req_sock, bytes.fromhex(step['send']))]
        rec['mon'] = [g.hex() for g in drain_now(mon)]
        out.append(rec)
    ver = subprocess.run(['ip', '-V'], capture_output=True, text=True).stdout.strip()
    json.dump({'kernel': os.uname().release, 'iproute2': ver, 'steps': out}, sys.stdout, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
