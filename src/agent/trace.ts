// Critical-path timestamps for profiling context setup (make bench-control
// with SHIM6_TRACE_DIR=DIR): each agent records (label, CLOCK_MONOTONIC ms)
// pairs, with the process's CPU time, in memory and writes them to DIR/trace-<pid>.json when it stops.
// Off (one boolean test per point) unless the variable is set.
import fs from 'node:fs';
import path from 'node:path';

const dir = process.env.SHIM6_TRACE_DIR ?? '';
export const tracing = dir !== '';
const labels: string[] = [];
const stamps: number[] = [];
const cpu: number[] = []; // process CPU time (user + system), ms

/** Record a point of the critical path (no-op unless SHIM6_TRACE_DIR is set). */
export function trace(label: string): void {
  if (!tracing) return;
  labels.push(label);
  stamps.push(Number(process.hrtime.bigint()) / 1e6);
  const u = process.cpuUsage();
  cpu.push((u.user + u.system) / 1000);
}

/** Record a point stamped elsewhere (the data plane's packet stamp). */
export function traceAt(label: string, ms: number): void {
  if (!tracing) return;
  labels.push(label);
  stamps.push(ms);
  cpu.push(NaN);
}

/** Write the recorded points (at stop). */
export function traceFlush(): void {
  if (!tracing || labels.length === 0) return;
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `trace-${process.pid}.json`), JSON.stringify({ pid: process.pid, labels, stamps, cpu }));
  } catch { /* profiling aid only */ }
}
