// The host's HBA set (RFC 5535), generated once for the configured prefixes
// and kept in the persistent state directory: its addresses are the host's
// ULIDs, so they must not change across restarts or reboots.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { generateHbaSet, verifyHba } from '../hba/index.js';
import { Shim6Error } from '../errors.js';
import { formatIpv6 } from '../wire/addr.js';
import type { Prefix } from './config.js';

export interface StoredHbaSet {
  /** Prefix texts, Multi-Prefix order. */
  readonly prefixes: readonly string[];
  readonly addresses: readonly Uint8Array[];
  readonly params: readonly Uint8Array[];
}

interface FileForm {
  version: 1;
  prefixes: string[];
  addresses: string[];
  params: string[];
}

const FILE = 'hba.json';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const prefixKey = (ps: readonly Prefix[]): string => ps.map((p) => hex(p.bytes)).join(',');

/** Load the stored set when it was made for exactly these prefixes and still verifies; else generate and store one. */
export function loadOrGenerateHbaSet(stateDir: string, prefixes: readonly Prefix[], sec = 0): { set: StoredHbaSet; generated: boolean; ms: number } {
  const t0 = performance.now();
  const file = path.join(stateDir, FILE);
  const stored = readStored(file);
  if (stored !== null && stored.prefixes.length === prefixes.length && prefixKey(prefixes) === stored.prefixes.map((p) => p).join(',')) {
    const set = {
      prefixes: prefixes.map((p) => p.text),
      addresses: stored.addresses.map((a) => Uint8Array.from(Buffer.from(a, 'hex'))),
      params: stored.params.map((a) => Uint8Array.from(Buffer.from(a, 'hex'))),
    };
    if (set.addresses.every((a, i) => a.length === 16 && verifyHba(a, set.params[i]).ok)) {
      return { set, generated: false, ms: performance.now() - t0 };
    }
  }
  const g = generateHbaSet({ prefixes: prefixes.map((p) => p.bytes), sec, random: (n) => new Uint8Array(crypto.randomBytes(n)) });
  const set = { prefixes: prefixes.map((p) => p.text), addresses: g.addresses, params: g.params };
  const form: FileForm = {
    version: 1,
    prefixes: prefixes.map((p) => hex(p.bytes)),
    addresses: g.addresses.map(hex),
    params: g.params.map(hex),
  };
  try {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(form, null, 2) + '\n', { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
  } catch (err) {
    throw new Shim6Error('SHIM6_ERR_SYSTEM', `storing the HBA set in ${file}: ${(err as Error).message}`);
  }
  return { set, generated: true, ms: performance.now() - t0 };
}

function readStored(file: string): FileForm | null {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as FileForm;
    const ok = v?.version === 1 && [v.prefixes, v.addresses, v.params].every((a) => Array.isArray(a) && a.every((s) => typeof s === 'string' && /^[0-9a-f]*$/.test(s)))
      && v.addresses.length === v.prefixes.length && v.params.length === v.prefixes.length;
    return ok ? v : null;
  } catch {
    return null;
  }
}

export function describeHbaSet(set: StoredHbaSet): Array<{ prefix: string; address: string }> {
  return set.addresses.map((a, i) => ({ prefix: set.prefixes[i], address: formatIpv6(a) }));
}
