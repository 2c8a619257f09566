// The API server reports each answered request with its duration (the
// agent's shim6_api_request_duration_seconds histogram).
import { afterAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { native } from '../../../src/native.js';
import { ApiServer, type ApiRequestRecord } from '../../../src/api/server.js';
import { Attr, Flag, MsgType, decodeFrame, encodeFrame, u32 } from '../../../src/api/frame.js';
import * as H from '../../../src/api/shim-h.js';
import { socketFd } from '../../../src/client/index.js';
import { FakeBackend } from './fake-backend.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-api-observe-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ApiServer observe', () => {
  it('is called once per answered request with its duration', async () => {
    const seen: Array<[ApiRequestRecord, number]> = [];
    const apiPath = path.join(dir, 'api.sock');
    const server = new ApiServer({ backend: new FakeBackend(), path: apiPath, observe: (r, s) => seen.push([r, s]) });
    await server.listen();
    const udp = dgram.createSocket('udp6');
    await new Promise<void>((r) => udp.bind(0, '::1', r));
    try {
      for (let seq = 1; seq <= 3; seq++) {
        const frame = encodeFrame({ type: MsgType.GETSOCKOPT, flags: Flag.REQUEST, seq, attrs: [u32(Attr.LEVEL, H.SOL_SHIM), u32(Attr.OPTNAME, H.SHIM_ASSOCIATED), u32(Attr.OPTLEN, 4)] });
        expect(decodeFrame(await native().apiRequest(apiPath, frame, [socketFd(udp)])).ok).toBe(true);
      }
    } finally {
      udp.close();
      await server.close();
    }
    expect(seen.map(([r]) => r.seq)).toEqual([1, 2, 3]);
    for (const [, s] of seen) {
      expect(s).toBeGreaterThan(0);
      expect(s).toBeLessThan(60);
    }
  });
});
