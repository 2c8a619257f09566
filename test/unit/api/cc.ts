// Compile small C programs for the API tests (gcc, into a temporary directory).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const INCLUDE = path.join(ROOT, 'include');
export const LIBDIR = path.join(ROOT, 'lib');
export const BUILD = path.join(ROOT, 'build');

let dir: string | undefined;
// Registered when a test file imports this module: its programs go with it.
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});
export function tmpDir(): string {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-api-test-'));
  return dir;
}

/** gcc -Wall -Werror <sources> -o <tmp>/<name>; returns the binary's path. */
export function cc(name: string, sources: string[], extra: string[] = []): string {
  const out = path.join(tmpDir(), name);
  execFileSync('gcc', ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-g', `-I${INCLUDE}`, `-I${LIBDIR}`, ...sources, '-o', out, ...extra], { stdio: 'pipe' });
  return out;
}

/** Write a C source into the temporary directory. */
export function source(name: string, text: string): string {
  const p = path.join(tmpDir(), name);
  fs.writeFileSync(p, text);
  return p;
}

export function run(bin: string, args: string[] = [], env: Record<string, string> = {}): string {
  return execFileSync(bin, args, { encoding: 'utf8', env: { ...process.env, ...env } });
}
