// One source of truth: include/shim6/shim.h (and lib/shim6_api.h for the wire
// protocol). A C program prints every constant, size and offset; the
// TypeScript mirrors must agree with it exactly.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import * as H from '../../../src/api/shim-h.js';
import * as F from '../../../src/api/frame.js';
import { cc, run, source, INCLUDE, ROOT } from './cc.js';

const constNames = [
  'SOL_SHIM', ...Object.keys(H.OPTION_NAMES), 'SHIM_MAX_LOCATORS', 'SHIM_LOC_FLAG_HBA', 'SHIM_LOC_FLAG_CGA',
  'SHIM_FB_OUTBOUND', 'SHIM_FB_INBOUND', 'SHIM_FB_DEFAULT', 'SHIM_FB_UNABLE', 'SHIM_FB_UNSATISFACTORY', 'SHIM_FB_SATISFACTORY',
  ...Object.keys(H.SHIM_ERRNO), 'AF_INET', 'AF_INET6', 'IPPROTO_UDP',
  ...Object.keys(H.SHIM_EVENT_NAMES), 'SHIM_EVENT_ALL',
];
const structs: Array<[string, Record<string, number>]> = [
  ['shim_locator', H.ShimLocatorLayout],
  ['shim_pathexplore', H.ShimPathexploreLayout],
  ['shim_feedback', H.ShimFeedbackLayout],
  ['shim6_event', H.Shim6EventLayout],
];
const apiConsts: Record<string, number> = {
  SHIM6_API_VERSION: F.API_VERSION, SHIM6_API_HDRLEN: F.HDR_LEN, SHIM6_API_ATTR_HDRLEN: F.ATTR_HDR_LEN,
  SHIM6_API_MAX_FRAME: F.MAX_FRAME,
  ...Object.fromEntries(Object.entries(F.MsgType).map(([k, v]) => [`SHIM6_API_${k}`, v])),
  ...Object.fromEntries(Object.entries(F.Flag).map(([k, v]) => [`SHIM6_API_F_${k}`, v])),
  ...Object.fromEntries(Object.entries(F.Attr).map(([k, v]) => [`SHIM6_API_A_${k}`, v])),
};

function program(): string {
  const lines: string[] = [];
  for (const n of constNames) lines.push(`  printf("%s %ld\\n", "${n}", (long)(${n}));`);
  for (const n of Object.keys(apiConsts)) lines.push(`  printf("%s %ld\\n", "${n}", (long)(${n}));`);
  for (const [s, layout] of structs) {
    lines.push(`  printf("%s %zu\\n", "${s}.size", sizeof(struct ${s}));`);
    for (const f of Object.keys(layout)) if (f !== 'size') lines.push(`  printf("%s %zu\\n", "${s}.${f}", offsetof(struct ${s}, ${f}));`);
  }
  lines.push(`  printf("int.size %zu\\n", sizeof(int));`);
  lines.push(`  printf("SHIM6_API_SOCKET_DEFAULT %s\\n", SHIM6_API_SOCKET_DEFAULT);`);
  return `#include <shim6/shim.h>\n#include "shim6_api.h"\n#include <stdio.h>\n#include <stddef.h>\nint main(void) {\n${lines.join('\n')}\n  return 0;\n}\n`;
}

describe('include/shim6/shim.h and its TypeScript mirror', () => {
  const out = run(cc('mirror', [source('mirror.c', program())]));
  const c = new Map(out.trim().split('\n').map((l) => { const i = l.indexOf(' '); return [l.slice(0, i), l.slice(i + 1)] as const; }));

  it('has every Table 1/Table 2 name, errno and flag with the mirrored value', () => {
    const ts = H as unknown as Record<string, number>;
    for (const n of constNames) expect(Number(c.get(n)), n).toBe(ts[n]);
    expect(c.get('SHIM6_API_SOCKET_DEFAULT')).toBe(H.SHIM6_API_SOCKET_DEFAULT);
  });

  it('lays out the structs of Figures 4, 6 and 7 as mirrored', () => {
    for (const [s, layout] of structs) {
      for (const [f, v] of Object.entries(layout)) expect(Number(c.get(`${s}.${f}`)), `${s}.${f}`).toBe(v);
    }
    expect(Number(c.get('int.size'))).toBe(H.SIZEOF_INT);
  });

  it('agrees with frame.ts on the wire protocol constants', () => {
    for (const [n, v] of Object.entries(apiConsts)) expect(Number(c.get(n)), n).toBe(v);
  });

  it('keeps SOL_SHIM and the new errnos outside what Linux uses, and both setup spellings', () => {
    expect(H.SOL_SHIM).toBeGreaterThan(1000);
    for (const v of Object.values(H.SHIM_ERRNO)) {
      expect(v).toBeGreaterThan(4095);
      expect(H.errnoName(v)).toMatch(/^E/);
    }
    expect(new Set(Object.values(H.SHIM_ERRNO)).size).toBe(4);
    expect(c.get('SHIM_DEFERRED_CONTEXT_SETUP')).toBe(c.get('SHIM_CONTEXT_DEFERRED_SETUP'));
    // Options 1..14 are distinct.
    const opts = Object.entries(H.OPTION_NAMES).filter(([k]) => k !== 'SHIM_DEFERRED_CONTEXT_SETUP').map(([, v]) => v);
    expect(new Set(opts).size).toBe(opts.length);
  });

  it('compiles as C99, C11 pedantic and C++', () => {
    const hdr = source('hdr.c', '#include <shim6/shim.h>\nint main(void) { struct shim_locator l = {0}; return l.lc_family; }\n');
    cc('hdr-c99', [hdr], ['-std=c99', '-pedantic']);
    cc('hdr-c11', [hdr], ['-std=c11', '-pedantic']);
    const cpp = source('hdr.cc', '#include <shim6/shim.h>\nint main() { shim_locator l{}; return l.lc_family; }\n');
    run('g++', ['-Wall', '-Werror', `-I${INCLUDE}`, '-fsyntax-only', cpp]);
    expect(path.isAbsolute(ROOT)).toBe(true);
  });
});
