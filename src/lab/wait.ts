// Waiting in tests, benchmarks and the demo: poll a condition until it holds.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `f` every `stepMs` until it returns a truthy value (returned), or
 * throw after `timeoutMs` naming `what`. A throwing `f` counts as "not yet";
 * its last error is in the timeout message.
 */
export async function until<T>(what: string, f: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 10_000, stepMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(stepMs);
  }
}
