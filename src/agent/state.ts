// The agent's context state across restarts: a snapshot file plus an
// append-only journal. Every change to a context is appended (one JSON line)
// before the actions that announce it leave the host, so an Ack or R2 is
// never sent for state a kill -9 would lose; the journal is folded into the
// snapshot at start, at stop, and when it grows past a few times the
// number of contexts. A torn last line (crash mid-write) is ignored.
import fs from 'node:fs';
import path from 'node:path';
import type { PersistedContext } from '../context/index.js';

export interface StateEntry {
  /** Data-plane context id. */
  id: number;
  rec: PersistedContext;
}

type JournalLine = { ct: string; id: number; rec: PersistedContext } | { ct: string; del: true };

export class StateStore {
  readonly snapshotFile: string;
  readonly journalFile: string;
  #journalLines = 0;
  #fd: number | null = null;

  constructor(dir: string) {
    this.snapshotFile = path.join(dir, 'contexts.json');
    this.journalFile = path.join(dir, 'contexts.journal');
    fs.mkdirSync(dir, { recursive: true });
  }

  /** Snapshot with the journal replayed over it, keyed by CT(local) hex. */
  load(onProblem: (what: string) => void): Map<string, StateEntry> {
    const out = new Map<string, StateEntry>();
    try {
      const v = JSON.parse(fs.readFileSync(this.snapshotFile, 'utf8')) as { version?: number; entries?: unknown };
      if (v?.version === 2 && Array.isArray(v.entries)) {
        for (const e of v.entries as Array<{ ct?: unknown; id?: unknown; rec?: unknown }>) {
          if (typeof e?.ct === 'string' && Number.isInteger(e.id) && e.rec) out.set(e.ct, { id: e.id as number, rec: e.rec as PersistedContext });
        }
      } else onProblem('snapshot has an unknown format');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onProblem(`snapshot unreadable: ${(err as Error).message}`);
    }
    let text = '';
    try {
      text = fs.readFileSync(this.journalFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onProblem(`journal unreadable: ${(err as Error).message}`);
    }
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (!line) return;
      let j: JournalLine;
      try {
        j = JSON.parse(line) as JournalLine;
      } catch {
        if (i < lines.length - 1 && lines.slice(i + 1).some(Boolean)) onProblem(`journal line ${i + 1} is corrupt`);
        return; // the torn tail of a crash
      }
      if (typeof j?.ct !== 'string') return;
      if ('del' in j) out.delete(j.ct);
      else if (Number.isInteger(j.id) && j.rec) out.set(j.ct, { id: j.id, rec: j.rec });
    });
    return out;
  }

  /** Append changes (synchronously: they must be on disk before the packets go). */
  append(lines: JournalLine[]): void {
    if (lines.length === 0) return;
    if (this.#fd === null) this.#fd = fs.openSync(this.journalFile, 'a', 0o600);
    fs.writeSync(this.#fd, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    this.#journalLines += lines.length;
  }

  get journalLines(): number {
    return this.#journalLines;
  }

  /** Write the whole state as the snapshot and start an empty journal. */
  compact(entries: Map<string, StateEntry>): void {
    const tmp = `${this.snapshotFile}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ version: 2, entries: [...entries].map(([ct, e]) => ({ ct, id: e.id, rec: e.rec })) }), { mode: 0o600 });
    fs.renameSync(tmp, this.snapshotFile);
    this.close();
    fs.writeFileSync(this.journalFile, '', { mode: 0o600 });
    this.#journalLines = 0;
  }

  close(): void {
    if (this.#fd !== null) fs.closeSync(this.#fd);
    this.#fd = null;
  }

  /** Forget everything (teardown on exit). */
  remove(): void {
    this.close();
    fs.rmSync(this.snapshotFile, { force: true });
    fs.rmSync(this.journalFile, { force: true });
  }
}

export type { JournalLine };
