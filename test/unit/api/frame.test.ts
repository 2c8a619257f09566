// The API frame codec: golden bytes (written out by hand from the layout in
// src/api/README.md), the C codec (lib/shim6_frame.c) producing and reading
// the same bytes, and a fuzzer that decodeFrame never throws on.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { Attr, Flag, MsgType, decodeAttrs, decodeFrame, encodeFrame, bytes, getU32, nested, text, u32, MAX_FRAME, type Frame } from '../../../src/api/frame.js';
import { encodeLocator, ZERO_LOCATOR } from '../../../src/api/structs.js';
import * as H from '../../../src/api/shim-h.js';
import { cc, run, ROOT, LIBDIR } from './cc.js';

const loc = encodeLocator({ ...ZERO_LOCATOR, family: H.AF_INET6, prio: 1, weight: 10, addr: Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0xb, 0, 0, 0, 0, 0, 0, 0, 1]) });

const GOLDEN: Array<[string, Frame]> = [
  ['10000000' + '0100' + '0100' + '01000000' + '0100' + '0000',
    { type: MsgType.NOOP, flags: Flag.REQUEST, seq: 1, attrs: [] }],
  ['28000000' + '1000' + '0100' + '04030201' + '0100' + '0000' +
    '0800' + '0200' + 'ac180000' + '0800' + '0300' + '01000000' + '0800' + '0400' + '04000000',
  { type: MsgType.GETSOCKOPT, flags: Flag.REQUEST, seq: 0x01020304, attrs: [u32(Attr.LEVEL, H.SOL_SHIM), u32(Attr.OPTNAME, H.SHIM_ASSOCIATED), u32(Attr.OPTLEN, 4)] }],
  ['44000000' + '1100' + '0100' + '07000000' + '0100' + '0000' +
    '0800' + '0200' + 'ac180000' + '0800' + '0300' + '09000000' +
    '2400' + '0500' + '0a000000' + '0100' + '0a00' + '00000000' + '20010db80002000b0000000000000001' + '0000' + '0000',
  { type: MsgType.SETSOCKOPT, flags: Flag.REQUEST, seq: 7, attrs: [u32(Attr.LEVEL, H.SOL_SHIM), u32(Attr.OPTNAME, H.SHIM_LOC_PEER_SEND), bytes(Attr.OPTVAL, loc)] }],
  ['24000000' + '1100' + '0200' + '07000000' + '0100' + '0000' + '0800' + '0100' + 'ae180000' + '0900' + '0600' + '68656c6c6f000000',
    { type: MsgType.SETSOCKOPT, flags: Flag.REPLY, seq: 7, attrs: [u32(Attr.ERRNO, H.EUNVERIFIEDLOCATOR), text(Attr.MESSAGE, 'hello')] }],
  ['1c000000' + '1000' + '0200' + 'ffffffff' + '0100' + '0000' + '0800' + '0100' + '00000000' + '0400' + '0500',
    { type: MsgType.GETSOCKOPT, flags: Flag.REPLY, seq: 0xffffffff, attrs: [u32(Attr.ERRNO, 0), bytes(Attr.OPTVAL, new Uint8Array(0))] }],
];

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const norm = (f: Frame) => ({ ...f, version: f.version ?? 1, attrs: f.attrs.map((a) => ({ type: a.type, value: hex(a.value) })) });

describe('API frames', () => {
  const bin = cc('frame_golden', [path.join(ROOT, 'test/api/frame_golden.c'), path.join(LIBDIR, 'shim6_frame.c')]);

  it('encodes the golden frames byte for byte', () => {
    for (const [h, f] of GOLDEN) expect(hex(encodeFrame(f))).toBe(h);
  });

  it('decodes the golden frames back', () => {
    for (const [h, f] of GOLDEN) {
      const r = decodeFrame(Buffer.from(h, 'hex'));
      expect(r.ok).toBe(true);
      if (r.ok) expect(norm(r.frame)).toEqual(norm(f));
    }
  });

  it('the C codec builds the same golden bytes', () => {
    expect(run(bin, ['encode']).trim().split('\n')).toEqual(GOLDEN.map(([h]) => h));
  });

  it('the C codec reads what the TypeScript codec writes', () => {
    for (const [h, f] of GOLDEN) {
      const lines = run(bin, ['decode', h]).trim().split('\n');
      expect(lines[0]).toBe(`frame ${f.type} ${f.flags} ${f.seq} 1`);
      expect(lines.filter((l) => l.startsWith('attr '))).toEqual(f.attrs.map((a) => `attr ${a.type} ${hex(a.value)}`.trim()));
      const opt = getU32(f, Attr.OPTNAME);
      if (opt !== undefined) expect(lines).toContain(`optname ${opt}`);
    }
  });

  const MALFORMED: Array<[string, string, string]> = [
    ['empty', '', 'EBADMSG'],
    ['short header', '1000000001000100', 'EBADMSG'],
    ['length disagrees', '14000000' + '0100' + '0100' + '01000000' + '0100' + '0000', 'EBADMSG'],
    ['length not a multiple of 4', '12000000' + '0100' + '0100' + '01000000' + '0100' + '0000' + '0000', 'EBADMSG'],
    ['wrong version', '10000000' + '0100' + '0100' + '01000000' + '0200' + '0000', 'EPROTONOSUPPORT'],
    ['attribute length < 4', '14000000' + '1000' + '0100' + '01000000' + '0100' + '0000' + '0200' + '0300', 'EBADMSG'],
    ['attribute past the end', '18000000' + '1000' + '0100' + '01000000' + '0100' + '0000' + '0c00' + '0300' + '01000000', 'EBADMSG'],
    ['attribute padding past the end', '18000000' + '1000' + '0100' + '01000000' + '0100' + '0000' + '0900' + '0300' + '01000000', 'EBADMSG'],
  ];

  it('rejects malformed frames with an errno, in both codecs alike', () => {
    const num: Record<string, number> = { EBADMSG: 74, EPROTONOSUPPORT: 93 };
    for (const [name, h, errno] of MALFORMED) {
      const r = decodeFrame(Buffer.from(h, 'hex'));
      expect(r.ok, name).toBe(false);
      if (!r.ok) expect(r.errno, name).toBe(errno);
      expect(run(bin, ['decode', h]).trim(), name).toBe(`errno ${num[errno]}`);
    }
    const big = decodeFrame(new Uint8Array(MAX_FRAME + 4));
    expect(big.ok ? '' : big.errno).toBe('EMSGSIZE');
  });

  it('echoes seq and type of a malformed frame when it can read them', () => {
    const r = decodeFrame(Buffer.from('14000000' + '1000' + '0100' + '2a000000' + '0100' + '0000' + '0200' + '0300', 'hex'));
    expect(r).toMatchObject({ ok: false, seq: 42, type: MsgType.GETSOCKOPT });
  });

  it('never throws, and re-encodes what it accepts, on fuzzed input', () => {
    let seed = 0x5eed;
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
    const bases = GOLDEN.map(([h]) => Buffer.from(h, 'hex'));
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      let b: Uint8Array;
      if (i % 4 === 0) {
        b = Uint8Array.from({ length: rnd(80) }, () => rnd(256));
      } else {
        b = Uint8Array.from(bases[rnd(bases.length)]);
        for (let k = 0, n = 1 + rnd(3); k < n; k++) b[rnd(b.length)] = rnd(256);
        if (i % 7 === 0) b = b.subarray(0, rnd(b.length + 1));
        if (i % 11 === 0) { const len = b.length; b = Uint8Array.from([...b, ...Array.from({ length: 4 }, () => rnd(256))]); new DataView(b.buffer).setUint32(0, len + 4, true); }
      }
      const r = decodeFrame(b);
      if (r.ok) {
        accepted++;
        // Padding bytes are not kept: compare after one normalising round trip.
        const again = encodeFrame(r.frame);
        const r2 = decodeFrame(again);
        expect(r2.ok).toBe(true);
        if (r2.ok) expect(norm(r2.frame)).toEqual(norm(r.frame));
        expect(again.length).toBe(b.length);
      }
    }
    expect(accepted).toBeGreaterThan(1000);
    expect(decodeFrame(null as unknown as Uint8Array).ok).toBe(false);
  });

  it('nests attributes (CMSG) and reads them back; decodeAttrs never throws', () => {
    const n = nested(Attr.CMSG, [u32(Attr.CMSG_LEVEL, H.SOL_SHIM), u32(Attr.CMSG_TYPE, H.SHIM_FEEDBACK), bytes(Attr.CMSG_DATA, Uint8Array.from([0, 2, 0, 0]))]);
    expect(hex(n.value)).toBe('0800' + '0800' + 'ac180000' + '0800' + '0900' + '0f000000' + '0800' + '0a00' + '00020000');
    expect(decodeAttrs(n.value)?.map((a) => a.type)).toEqual([Attr.CMSG_LEVEL, Attr.CMSG_TYPE, Attr.CMSG_DATA]);
    let seed = 7;
    const rnd = (k: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % k; };
    for (let i = 0; i < 5000; i++) {
      const b = Uint8Array.from(n.value);
      for (let k = 0; k < 1 + rnd(3); k++) b[rnd(b.length)] = rnd(256);
      expect(() => decodeAttrs(b.subarray(0, rnd(b.length + 1)))).not.toThrow();
    }
  });
});
