// The agent's context state files: a snapshot plus an append-only journal
// replayed over it, deletes, a torn tail after a crash, compaction.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { StateStore, type JournalLine, type StateEntry } from '../../../src/agent/state.js';
import type { PersistedContext } from '../../../src/context/index.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'shim6-state-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A stand-in record: the store never looks inside. */
const rec = (ct: string, gen = 1): PersistedContext => ({ ctLocal: `0x${ct}`, gen } as unknown as PersistedContext);
const put = (ct: string, id: number, gen = 1): JournalLine => ({ ct, id, rec: rec(ct, gen) });
const del = (ct: string): JournalLine => ({ ct, del: true });
const plain = (m: Map<string, StateEntry>): Record<string, StateEntry> => Object.fromEntries(m);

let dir: string;
let problems: string[];
const load = (s: StateStore): Map<string, StateEntry> => s.load((w) => problems.push(w));

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(root, 'd-'));
  problems = [];
});

describe('StateStore', () => {
  it('creates its directory and loads nothing from an empty one, without a problem', () => {
    const d = path.join(dir, 'a', 'b');
    const s = new StateStore(d);
    expect(fs.statSync(d).isDirectory()).toBe(true);
    expect(s.snapshotFile).toBe(path.join(d, 'contexts.json'));
    expect(s.journalFile).toBe(path.join(d, 'contexts.journal'));
    expect(load(s).size).toBe(0);
    expect(problems).toEqual([]);
  });

  it('replays the journal alone (no snapshot yet)', () => {
    const s = new StateStore(dir);
    s.append([put('a1', 0x4000), put('b2', 0x4001)]);
    s.append([put('a1', 0x4000, 2)]);
    expect(s.journalLines).toBe(3);
    s.close();
    expect(plain(load(new StateStore(dir)))).toEqual({
      a1: { id: 0x4000, rec: rec('a1', 2) },
      b2: { id: 0x4001, rec: rec('b2') },
    });
    expect(problems).toEqual([]);
  });

  it('replays the journal over the snapshot: updates, deletes, additions, in order', () => {
    const s = new StateStore(dir);
    s.compact(new Map([
      ['a1', { id: 0x4000, rec: rec('a1') }],
      ['b2', { id: 0x4001, rec: rec('b2') }],
      ['c3', { id: 0x4002, rec: rec('c3') }],
    ]));
    s.append([put('a1', 0x4000, 5), del('b2'), put('d4', 0x4003)]);
    s.append([del('d4'), put('d4', 0x4004, 2), put('b2', 0x4001, 9)]);
    s.append([del('zz')]); // deleting what is not there is harmless
    s.close();
    expect(plain(load(new StateStore(dir)))).toEqual({
      a1: { id: 0x4000, rec: rec('a1', 5) },
      b2: { id: 0x4001, rec: rec('b2', 9) },
      c3: { id: 0x4002, rec: rec('c3') },
      d4: { id: 0x4004, rec: rec('d4', 2) },
    });
    expect(problems).toEqual([]);
  });

  it('ignores a torn last line (a crash mid-write) and reports nothing', () => {
    const s = new StateStore(dir);
    s.append([put('a1', 0x4000), put('b2', 0x4001)]);
    s.close();
    fs.appendFileSync(s.journalFile, JSON.stringify(put('c3', 0x4002)).slice(0, 25));
    expect([...load(new StateStore(dir)).keys()]).toEqual(['a1', 'b2']);
    expect(problems).toEqual([]);
  });

  it('reports a corrupt line in the middle, and still applies the lines after it', () => {
    const s = new StateStore(dir);
    s.close();
    fs.writeFileSync(s.journalFile, [JSON.stringify(put('a1', 0x4000)), '{"ct": "b2", "id":', JSON.stringify(put('c3', 0x4002)), ''].join('\n'));
    expect([...load(new StateStore(dir)).keys()]).toEqual(['a1', 'c3']);
    expect(problems).toEqual(['journal line 2 is corrupt']);
  });

  it('skips journal lines that are not records (no ct, no id, no rec)', () => {
    const s = new StateStore(dir);
    s.close();
    const lines = [{ id: 1, rec: rec('x') }, { ct: 'a1', rec: rec('a1') }, { ct: 'b2', id: 1.5, rec: rec('b2') }, { ct: 'c3', id: 3 }, null, 7, put('d4', 4)];
    fs.writeFileSync(s.journalFile, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    expect([...load(new StateStore(dir)).keys()]).toEqual(['d4']);
    expect(problems).toEqual([]);
  });

  it('compaction folds everything into the snapshot and starts an empty journal', () => {
    const s = new StateStore(dir);
    s.append([put('a1', 0x4000), put('b2', 0x4001), del('a1')]);
    const state = load(s);
    s.compact(state);
    expect(s.journalLines).toBe(0);
    expect(fs.readFileSync(s.journalFile, 'utf8')).toBe('');
    expect(JSON.parse(fs.readFileSync(s.snapshotFile, 'utf8'))).toEqual({ version: 2, entries: [{ ct: 'b2', id: 0x4001, rec: rec('b2') }] });
    expect(fs.existsSync(`${s.snapshotFile}.tmp`)).toBe(false);
    // Appending after a compaction goes to the new journal.
    s.append([put('c3', 0x4002)]);
    expect(s.journalLines).toBe(1);
    s.close();
    expect(plain(load(new StateStore(dir)))).toEqual({ b2: { id: 0x4001, rec: rec('b2') }, c3: { id: 0x4002, rec: rec('c3') } });
  });

  it('compacting an empty state leaves an empty snapshot', () => {
    const s = new StateStore(dir);
    s.append([put('a1', 1)]);
    s.compact(new Map());
    expect(load(s).size).toBe(0);
    expect(JSON.parse(fs.readFileSync(s.snapshotFile, 'utf8'))).toEqual({ version: 2, entries: [] });
  });

  it('writes its files readable by root only', () => {
    const s = new StateStore(dir);
    s.append([put('a1', 1)]);
    s.compact(load(s));
    s.append([put('b2', 2)]);
    expect(fs.statSync(s.snapshotFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(s.journalFile).mode & 0o777).toBe(0o600);
    s.close();
  });

  it('appending nothing does not create the journal', () => {
    const s = new StateStore(dir);
    s.append([]);
    expect(fs.existsSync(s.journalFile)).toBe(false);
    expect(s.journalLines).toBe(0);
  });

  it('reports a snapshot of an unknown format, and still replays the journal', () => {
    const s = new StateStore(dir);
    fs.writeFileSync(s.snapshotFile, JSON.stringify({ version: 1, entries: [{ ct: 'a1', id: 1, rec: rec('a1') }] }));
    s.append([put('b2', 2)]);
    s.close();
    expect([...load(new StateStore(dir)).keys()]).toEqual(['b2']);
    expect(problems).toEqual(['snapshot has an unknown format']);
  });

  it('reports an unreadable snapshot (not JSON)', () => {
    const s = new StateStore(dir);
    fs.writeFileSync(s.snapshotFile, '{"version": 2, "entr');
    expect(load(s).size).toBe(0);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^snapshot unreadable: /);
  });

  it('skips malformed snapshot entries', () => {
    const s = new StateStore(dir);
    fs.writeFileSync(s.snapshotFile, JSON.stringify({ version: 2, entries: [{ ct: 'a1', id: 1, rec: rec('a1') }, { ct: 5, id: 2, rec: {} }, { ct: 'c3', id: 'x', rec: {} }, { ct: 'd4', id: 4 }, null] }));
    expect([...load(s).keys()]).toEqual(['a1']);
    expect(problems).toEqual([]);
  });

  it('remove() forgets everything', () => {
    const s = new StateStore(dir);
    s.append([put('a1', 1)]);
    s.compact(load(s));
    s.append([put('b2', 2)]);
    s.remove();
    expect(fs.existsSync(s.snapshotFile)).toBe(false);
    expect(fs.existsSync(s.journalFile)).toBe(false);
    expect(load(new StateStore(dir)).size).toBe(0);
  });

  it('a second store on the same directory sees what the first wrote (synchronous appends)', () => {
    const w = new StateStore(dir);
    w.append([put('a1', 1)]);
    expect([...load(new StateStore(dir)).keys()]).toEqual(['a1']);
    w.append([del('a1')]);
    expect(load(new StateStore(dir)).size).toBe(0);
    w.close();
  });
});
