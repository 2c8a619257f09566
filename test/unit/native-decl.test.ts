// The built addon exports exactly what native/index.d.ts declares
// (names and kinds, via EXPORT_KINDS, which the compiler checks against the
// declaration's keys), and its errors look like Node's.
import { describe, expect, it } from 'vitest';
import { native, EXPORT_KINDS } from '../../src/native.js';

describe('native addon', () => {
  it('exports exactly the declared names with the declared kinds', () => {
    const n = native() as unknown as Record<string, unknown>;
    const actual = Object.keys(n).filter((k) => k !== 'default').sort();
    expect(actual).toEqual(Object.keys(EXPORT_KINDS).sort());
    for (const [name, kind] of Object.entries(EXPORT_KINDS)) {
      expect(typeof n[name], name).toBe('function');
      // A class has its methods on the prototype; a plain function has none.
      const methods = Object.getOwnPropertyNames((n[name] as { prototype: object }).prototype).filter((m) => m !== 'constructor');
      expect(methods.length > 0, `${name} is a ${kind}`).toBe(kind === 'class');
    }
  });

  it('throws errors with code, errno and syscall', () => {
    try {
      native().objGet('/nonexistent/shim6/map');
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'bpf_obj_get' });
    }
  });

  it('rejects bad arguments with a TypeError, not a crash', () => {
    expect(() => native().mapLookup('x' as unknown as number, Buffer.alloc(4))).toThrow(TypeError);
    expect(() => native().tcQuery({ ifindex: 1, direction: 'sideways' as 'ingress' })).toThrow(/direction/);
    expect(() => native().progTestRun(-1, { data: 'x' as unknown as Buffer })).toThrow(TypeError);
  });
});
