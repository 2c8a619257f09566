// Loads the native addon (build/shim6.node) and gives it its declared type.
import { createRequire } from 'node:module';
import { Shim6Error } from './errors.js';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import type { Shim6Native } from '../native/index.js';

export type { Shim6Native, NativeError, TcHook, XdpHook, MapInfo, ProgInfo, TestRunResult, LinkInfo, CapState } from '../native/index.js';

/** Export names and kinds the addon must provide (checked by a test). */
export const EXPORT_KINDS: Record<keyof Shim6Native, 'function' | 'class'> = {
  load: 'function', objGet: 'function', objPin: 'function', closeFd: 'function',
  progInfo: 'function', progFdById: 'function', progTestRun: 'function',
  tcAttach: 'function', tcDetach: 'function', tcQuery: 'function',
  xdpAttach: 'function', xdpDetach: 'function', xdpQuery: 'function',
  mapInfo: 'function', mapLookup: 'function', mapUpdate: 'function', mapDelete: 'function',
  mapKeys: 'function', mapMmap: 'function', numPossibleCpus: 'function', ifNameToIndex: 'function',
  ifIndexToName: 'function', socketCookie: 'function', ensureBpffs: 'function',
  netnsCookie: 'function', cgroupLink: 'function', linkUpdate: 'function',
  linkInfo: 'function', cgroupQuery: 'function',
  RingBuffer: 'class',
  Socket: 'class',
  ApiListener: 'class', socketInfo: 'function', apiRequest: 'function',
  sdNotify: 'function', capGet: 'function', dropPrivileges: 'function',
};

/** The package version (package.json), for --version. */
export function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Repository root, from src/ or dist/src/. */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('shim6: cannot find the project root');
}

let cached: Shim6Native | undefined;

export function native(): Shim6Native {
  if (cached) return cached;
  const file = process.env.SHIM6_ADDON ?? path.join(projectRoot(), 'build', 'shim6.node');
  if (!fs.existsSync(file)) {
    throw new Shim6Error('SHIM6_ERR_NO_ADDON', `native addon not built (${file}); run 'make'`);
  }
  const req = createRequire(import.meta.url);
  cached = req(file) as Shim6Native;
  return cached;
}
