// NetlinkRequests (seq numbers, ACK/error matching) and errnoName. The
// answers of a real kernel are exercised in route.test.ts; here hand-built ones.

import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLMSGERR_ATTR_MSG,
  NetlinkError,
  NetlinkRequests,
  RTM_NEWROUTE,
  decodeMessages,
  encodeRouteRequest,
  errnoName,
  type NetlinkEvent,
} from '../../../src/netlink/index.js';
import { addrMsg, concat, cstr, doneMsg, errorMsg, i32, ip6, nlmsg, rtattr, routeMsg } from './helpers.js';

const ack = (seq: number): Uint8Array => errorMsg(seq, 0, nlmsg(RTM_NEWROUTE, new Uint8Array(0), { seq }), NLM_F_CAPPED);
const settled = async (p: Promise<void>): Promise<unknown> => p.then(() => 'ack', (e: unknown) => e);

describe('NetlinkRequests', () => {
  it('next(): increasing u32 from `start` (default 1), never 0', () => {
    const a = new NetlinkRequests();
    expect([a.next(), a.next(), a.next()]).toEqual([1, 2, 3]);
    const b = new NetlinkRequests(0xfffffffe);
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([0xfffffffe, 0xffffffff, 1, 2]);
    expect(new NetlinkRequests(0).next()).toBe(1);
  });

  it('an ACK resolves; handle() consumes it and returns everything else in order', async () => {
    const r = new NetlinkRequests(100);
    const seq = r.next();
    const p = r.expect(seq);
    expect(r.pending).toBe(1);
    expect(r.isPending(seq)).toBe(true);
    const other = routeMsg({ seq, table: 140, dstLen: 48, dst: '2001:db8:2::', protocol: 140, type: 1, oif: 10 });
    const evs = decodeMessages(concat(other, ack(seq), ack(999), addrMsg({ ifindex: 2, prefixLen: 64, address: '2001:db8::1' }), doneMsg(seq)));
    const rest = r.handle(evs);
    // The route notification with our seq, the ACK for a seq nobody expects, the notification and NLMSG_DONE stay.
    expect(rest.map((e) => [e.kind, e.seq])).toEqual([['route', seq], ['error', 999], ['addr', 0], ['done', seq]]);
    expect(await settled(p)).toBe('ack');
    expect(r.pending).toBe(0);
    // A second answer for the same seq is no longer ours.
    expect(r.handle(decodeMessages(ack(seq)))).toHaveLength(1);
  });

  it('an error rejects with NetlinkError { errno, code, extack, seq, requestType }', async () => {
    const r = new NetlinkRequests();
    const seq = r.next();
    const p = r.expect(seq);
    const req = encodeRouteRequest('new', seq, { table: 140, dst: ip6('2001:db8:2::'), dstLen: 48, oif: 10 });
    r.handle(decodeMessages(errorMsg(seq, -22, concat(req, rtattr(NLMSGERR_ATTR_MSG, cstr('Invalid source address'))), NLM_F_ACK_TLVS)));
    const e = (await settled(p)) as NetlinkError;
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('NetlinkError');
    expect({ errno: e.errno, code: e.code, extack: e.extack, seq: e.seq, requestType: e.requestType }).toEqual({
      errno: 22, code: 'EINVAL', extack: 'Invalid source address', seq, requestType: RTM_NEWROUTE,
    });
    expect(e.message).toBe(`RTM_NEWROUTE (seq ${seq}) failed: EINVAL (errno 22): Invalid source address`);
  });

  it('without extended ACK or echoed header: no extack, no requestType', async () => {
    const r = new NetlinkRequests();
    const p = r.expect(7);
    r.handle(decodeMessages(nlmsg(2, i32(-17), { seq: 7 })));
    const e = (await settled(p)) as NetlinkError;
    expect(e.message).toBe('netlink request (seq 7) failed: EEXIST (errno 17)');
    expect('extack' in e || 'requestType' in e).toBe(false);
  });

  it('several pending requests answered out of order in one datagram', async () => {
    const r = new NetlinkRequests();
    const seqs = [r.next(), r.next(), r.next()];
    const ps = seqs.map((s) => settled(r.expect(s)));
    r.handle(decodeMessages(concat(errorMsg(seqs[2], -3), ack(seqs[0]), errorMsg(seqs[1], -19))));
    expect((await Promise.all(ps)).map((x) => (x instanceof NetlinkError ? x.code : x))).toEqual(['ack', 'ENODEV', 'ESRCH']);
  });

  it('expect() of a pending seq returns the same promise; seq is taken as u32', () => {
    const r = new NetlinkRequests();
    const p = r.expect(5);
    expect(r.expect(5)).toBe(p);
    expect(r.expect(2 ** 32 + 5)).toBe(p);
    expect(r.pending).toBe(1);
  });

  it('fail() rejects one (a timeout); failAll() rejects the rest; later answers pass through', async () => {
    const r = new NetlinkRequests();
    const [a, b, c] = [r.next(), r.next(), r.next()];
    const pa = settled(r.expect(a));
    const pb = settled(r.expect(b));
    const pc = settled(r.expect(c));
    const timeout = new Error('timeout');
    expect(r.fail(a, timeout)).toBe(true);
    expect(r.fail(a, timeout)).toBe(false);
    const closed = new Error('closed');
    r.failAll(closed);
    expect(r.pending).toBe(0);
    expect(await Promise.all([pa, pb, pc])).toEqual([timeout, closed, closed]);
    const late: NetlinkEvent[] = decodeMessages(ack(b));
    expect(r.handle(late)).toEqual(late);
  });

  it('malformed events and events without seq interest are returned untouched', () => {
    const r = new NetlinkRequests();
    r.expect(1);
    const evs = decodeMessages(concat(ack(2), new Uint8Array([1, 2, 3])));
    expect(r.handle(evs)).toEqual(evs);
    expect(r.pending).toBe(1);
  });
});

describe('errnoName', () => {
  it('agrees with os.constants.errno for every errno Node knows', () => {
    const byNumber = new Map<number, string[]>();
    for (const [name, n] of Object.entries(constants.errno)) byNumber.set(n, [...(byNumber.get(n) ?? []), name]);
    expect(byNumber.size).toBeGreaterThan(70);
    for (const [n, names] of byNumber) expect(names, `errno ${n}`).toContain(errnoName(n));
  });
  it('names the errnos rtnetlink answers with; others get ERRNO_<n>', () => {
    expect([1, 2, 3, 17, 19, 22, 95, 99, 101, 105, 113, 524].map(errnoName)).toEqual([
      'EPERM', 'ENOENT', 'ESRCH', 'EEXIST', 'ENODEV', 'EINVAL', 'EOPNOTSUPP', 'EADDRNOTAVAIL', 'ENETUNREACH', 'ENOBUFS', 'EHOSTUNREACH', 'ENOTSUPP',
    ]);
    expect([0, 41, 58, 134, 4095, -1, 1.5].map(errnoName)).toEqual(['ERRNO_0', 'ERRNO_41', 'ERRNO_58', 'ERRNO_134', 'ERRNO_4095', 'ERRNO_-1', 'ERRNO_1.5']);
  });
});
