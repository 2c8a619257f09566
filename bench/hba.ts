/**
 * HBA/CGA cost benchmark. Prints one JSON object (µs per operation).
 *
 *   npx tsc --module nodenext --moduleResolution nodenext --target es2022 --types node \
 *     --skipLibCheck --rootDir . --outDir /tmp/shim6-bench bench/hba.ts
 *   echo '{"type":"module"}' > /tmp/shim6-bench/package.json
 *   node /tmp/shim6-bench/bench/hba.js
 */

import * as crypto from 'node:crypto';
import * as os from 'node:os';
import {
  VERIFICATION_METHOD,
  VerificationCache,
  generateCga,
  generateHbaSet,
  shim6SignedContent,
  signShim6,
  verifyHba,
  verifyShim6Signature,
} from '../src/hba/index.js';

const random = (n: number): Uint8Array => crypto.randomBytes(n);

/** Mean µs per call of `fn` over `iterations`, after a warm-up of a tenth as many. */
function measure(iterations: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.max(1, iterations / 10); i++) fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / 1000 / iterations;
}

const round = (x: number): number => Math.round(x * 100) / 100;

const prefixes = [1, 2, 3].map((i) => Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, i, 0, 0));
const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicKeyDer = Uint8Array.from(publicKey.export({ type: 'spki', format: 'der' }));

const N = 5000;
const genHbaOnly = measure(N, () => generateHbaSet({ prefixes, sec: 0, random }));
const genCgaHba = measure(N, () => generateHbaSet({ prefixes, sec: 0, publicKeyDer, random }));

// Verification of a locator against the peer's PDS (Sec 0 and Sec 1 sets).
const set0 = generateHbaSet({ prefixes, sec: 0, publicKeyDer, random });
const set1 = generateHbaSet({ prefixes, sec: 1, publicKeyDer, random });
const verify = (set: typeof set0, cache?: VerificationCache): number =>
  measure(N, (i) => {
    const r = verifyHba(set.addresses[i % 3], set.params[0], { cache });
    if (!r.ok) throw new Error(r.reason);
  });
const verifySec0 = verify(set0);
const verifySec1 = verify(set1);
const cache = new VerificationCache({ maxEntries: 1024 });
const verifyCached = verify(set1, cache);

// Sec 1 generation: expected 2^16 Hash2 computations, so few runs and a wide spread.
const SEC1_RUNS = 10;
let sec1Iterations = 0;
const t1 = process.hrtime.bigint();
for (let i = 0; i < SEC1_RUNS; i++) sec1Iterations += generateHbaSet({ prefixes, sec: 1, random }).iterations;
const genSec1 = Number(process.hrtime.bigint() - t1) / 1000 / SEC1_RUNS;

const message = shim6SignedContent({
  generation: 1,
  locators: set0.addresses,
  methods: [VERIFICATION_METHOD.CGA, VERIFICATION_METHOD.CGA, VERIFICATION_METHOD.CGA],
});
const sign = measure(200, () => signShim6(privateKey, message));
const signature = signShim6(privateKey, message);
const ulid = generateCga({ prefix: prefixes[0], publicKeyDer, sec: 0, random });
const sigVerify = measure(2000, () => {
  const r = verifyShim6Signature({ address: ulid.address, params: ulid.params, message, signature });
  if (!r.ok) throw new Error(r.reason);
});
const sigCache = new VerificationCache({ maxEntries: 16 });
const sigVerifyCached = measure(2000, () => {
  const r = verifyShim6Signature({ address: ulid.address, params: ulid.params, message, signature, cache: sigCache });
  if (!r.ok) throw new Error(r.reason);
});

console.log(
  JSON.stringify(
    {
      node: process.version,
      cpu: os.cpus()[0]?.model,
      unit: 'microseconds per operation',
      hbaGenerate3PrefixesSec0HbaOnly: round(genHbaOnly),
      hbaGenerate3PrefixesSec0WithRsa2048Key: round(genCgaHba),
      hbaVerifySec0Uncached: round(verifySec0),
      hbaVerifySec1Uncached: round(verifySec1),
      hbaVerifyCachedPds: round(verifyCached),
      hbaGenerate3PrefixesSec1: { meanUs: round(genSec1), runs: SEC1_RUNS, meanIterations: Math.round(sec1Iterations / SEC1_RUNS) },
      shim6SignRsa2048: round(sign),
      shim6VerifySignatureRsa2048Uncached: round(sigVerify),
      shim6VerifySignatureRsa2048Cached: round(sigVerifyCached),
    },
    null,
    2,
  ),
);
