#!/usr/bin/env node
// shim6ctl: inspect and drive the shim6 data plane and agent.
import { Command, Option, CommanderError } from 'commander';
import { Shim6Error, EXIT_CODES, fromSystem } from '../errors.js';
import { pinConfig, PinConfig } from '../dataplane/pins.js';
import { dataplaneUp, dataplaneDown, dataplaneStatus, readState, GsoMode, XdpMode } from '../dataplane/loader.js';
import { DataplaneMaps } from '../dataplane/maps.js';
import { contextAdd, contextDel, contextList, contextSetPair, contextView } from '../dataplane/context.js';
import { dumpMap } from '../dataplane/dump.js';
import { native, packageVersion } from '../native.js';
import { isEntryPoint } from '../entry.js';
import * as L from '../generated/layout.js';
import { table, toJson } from './output.js';
import { controlRequest } from '../agent/control.js';
import type { ContextView } from '../agent/agent.js';
import type { SocketView } from '../agent/api-backend.js';
import path from 'node:path';
import fs from 'node:fs';
import { parseTimeline, renderReport } from './report.js';

interface GlobalOpts { bpffs?: string; stateDir?: string; socket?: string }

/** The agent's socket: --socket, else the default of shim6d in this network namespace. */
function agentSocket(cmd: Command): string {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  return g.socket ?? path.join(pins(cmd).stateDir, 'shim6d.sock');
}

function ageText(s: number | null): string {
  if (s === null) return '-';
  if (s < 120) return `${s.toFixed(1)}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

function pins(cmd: Command): PinConfig {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  return pinConfig({ bpffs: g.bpffs, stateRoot: g.stateDir });
}

function withMaps<T>(p: PinConfig, f: (m: DataplaneMaps) => T): T {
  const m = DataplaneMaps.open(p.pinDir);
  try {
    return f(m);
  } finally {
    m.close();
  }
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
}

function parseTag(v: string): bigint {
  try {
    return BigInt(v);
  } catch {
    throw new Shim6Error('SHIM6_ERR_USAGE', `not a context tag: '${v}' (decimal or 0x-hex)`);
  }
}

function parseId(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Shim6Error('SHIM6_ERR_USAGE', `not a context id: '${v}'`);
  return n;
}

export function buildProgram(out: (s: string) => void = (s) => process.stdout.write(s + '\n')): Command {
  const program = new Command('shim6ctl')
    .description('Inspect and drive the shim6 multihoming data plane.')
    .version(packageVersion())
    .option('--bpffs <path>', 'bpffs mount holding the pinned maps (env SHIM6_BPFFS)', undefined)
    .option('--state-dir <path>', 'state directory root (env SHIM6_STATE_DIR)', undefined)
    .option('--socket <path>', "shim6d's socket (default <state-dir>/<netns>/shim6d.sock)", undefined)
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true })
    .exitOverride(); // inherited by every subcommand: main() maps errors to exit codes

  // ---- dataplane ----
  const dp = program.command('dataplane').description('load, attach and inspect the BPF data plane');
  dp.command('up')
    .description('load the programs (keeping pinned state), create the shim device, attach to the uplinks')
    .requiredOption('--uplink <dev...>', 'uplink interface (repeat or comma-separate)')
    .option('--shim-dev <name>', 'shim device: peer ULID routes point at it', 'shim6')
    .addOption(new Option('--gso <mode>', 'how payload headers enter GSO packets').choices(['auto', 'head', 'segment']).default('auto'))
    .addOption(new Option('--xdp <mode>', 'strip payload headers in XDP on the uplinks, before GRO (default $SHIM6_XDP, else off)').choices(['off', 'native', 'generic']))
    .option('--cgroup <path>', 'cgroup v2 for the TCP feedback program (default the root; none = leave TCP alone)')
    .option('--tcp-rto-max <ms>', "bound TCP's RTO on shimmed sockets during an outage (1000..120000, 0 = none)")
    .option('--json', 'machine-readable output')
    .action(function (this: Command, o: { uplink: string[]; shimDev: string; gso: GsoMode | 'auto'; xdp?: XdpMode; cgroup?: string; tcpRtoMax?: string; json?: boolean }) {
      const rto = o.tcpRtoMax === undefined ? undefined : Number(o.tcpRtoMax);
      if (rto !== undefined && (!Number.isInteger(rto) || (rto !== 0 && (rto < 1000 || rto > 120_000)))) {
        throw new Shim6Error('SHIM6_ERR_USAGE', '--tcp-rto-max must be 0 or 1000..120000 (ms)');
      }
      const st = dataplaneUp(pins(this), {
        shimDev: o.shimDev, uplinks: o.uplink.flatMap((u) => collect(u)), gso: o.gso, xdp: o.xdp,
        ...(o.cgroup !== undefined ? { cgroup: o.cgroup } : {}), ...(rto !== undefined ? { tcpRtoMaxMs: rto } : {}),
      });
      if (o.json) out(toJson(st));
      else out(`data plane up: shim device ${st.shimDev} (mtu ${st.mtu}), uplinks ${st.uplinks.map((u) => u.name).join(', ')}, gso ${st.gso}, xdp ${st.xdp ?? 'off'}`);
    });
  dp.command('down')
    .description('detach the programs, remove the shim device and every pinned map (drops all contexts)')
    .option('--json', 'machine-readable output')
    .action(function (this: Command, o: { json?: boolean }) {
      const r = dataplaneDown(pins(this));
      out(o.json ? toJson(r) : `data plane down: ${r.detached} filters detached, ${r.removedPins} pinned maps removed`);
    });
  dp.command('status')
    .description('what is loaded and attached here')
    .option('--json', 'machine-readable output')
    .action(function (this: Command, o: { json?: boolean }) {
      const s = dataplaneStatus(pins(this));
      if (o.json) return out(toJson(s));
      out(`data plane: ${s.up ? 'up' : 'down'}   pins: ${s.pinDir}`);
      if (s.state) out(`shim device: ${s.state.shimDev} (peer ${s.state.shimPeer}), mtu ${s.state.mtu}, gso ${s.state.gso}, xdp ${s.state.xdp ?? 'off'}`);
      if (s.abi) out(`abi: magic 0x${s.abi.magic.toString(16)} version ${s.abi.version}${s.abi.compatible ? '' : ' (INCOMPATIBLE with this build)'}`);
      if (s.contexts !== undefined) out(`contexts: ${s.contexts}`);
      if (s.tcp) out(`tcp feedback: ${JSON.stringify(s.tcp).replace(/[{}"]/g, '').replace(/,/g, ', ')}`);
      if (s.xdp && s.xdp.mode !== 'off') out(`xdp (${s.xdp.mode}): ${s.xdp.stripped} payload headers stripped before GRO, ${s.xdp.skbs} packets after GRO`);
      if (s.gso) out(`gso self-test: ${s.gso.ok ? 'ok' : 'FAILING: GSO packets sent to be segmented do not come back'} (${s.gso.loopOut} out, ${s.gso.loopIn} segments back)`);
      if (s.attachments.length) {
        out(table(['DEVICE', 'HOOK', 'PROGRAM', 'ID'], s.attachments.map((a) => [a.dev, a.direction, a.program ?? '-', a.progId ?? '-'])));
      }
    });

  // ---- maps ----
  const maps = program.command('maps').description('the pinned BPF maps');
  maps.command('list')
    .description('list the maps with their shapes and entry counts')
    .option('--json', 'machine-readable output')
    .action(function (this: Command, o: { json?: boolean }) {
      const rows = withMaps(pins(this), (m) =>
        (Object.keys(L.MAPS) as L.MapName[]).map((name) => {
          const info = native().mapInfo(m.fds[name]);
          const entries = info.type === 27 || info.type === 24 ? null : dumpMap(name, m.fds[name]).length;
          return { name, id: info.id, type: info.type, keySize: info.keySize, valueSize: info.valueSize, maxEntries: info.maxEntries, perCpu: info.perCpu, entries };
        }));
      if (o.json) return out(toJson(rows));
      out(table(['NAME', 'ID', 'TYPE', 'KEY', 'VALUE', 'MAX', 'ENTRIES'], rows.map((r) => [r.name, r.id, r.type, r.keySize, r.valueSize, r.maxEntries, r.entries ?? '-'])));
    });
  maps.command('dump')
    .description('decode every entry of a map')
    .argument('<name>', `map name (${Object.keys(L.MAPS).join(', ')})`)
    .option('--json', 'machine-readable output')
    .action(function (this: Command, name: string, o: { json?: boolean }) {
      const mapName = (name.startsWith('shim6_') ? name : `shim6_${name}`) as L.MapName;
      if (!(mapName in L.MAPS)) throw new Shim6Error('SHIM6_ERR_NOT_FOUND', `no map '${name}' (known: ${Object.keys(L.MAPS).join(', ')})`);
      const rows = withMaps(pins(this), (m) => dumpMap(mapName, m.fds[mapName]));
      if (o.json) return out(toJson(rows));
      for (const r of rows) out(`${toJson(r.key).replace(/\s+/g, ' ')} => ${toJson(r.value).replace(/\s+/g, ' ')}`);
      if (!rows.length) out('(empty)');
    });

  // ---- contexts ----
  const ctx = program.command('context').description('static Shim6 contexts in the data plane');
  ctx.command('add')
    .description('install a context: peer ULID route via the shim device, locator sets, tags')
    .requiredOption('--id <n>', 'context id (1..65535)', parseId)
    .requiredOption('--ulid-local <addr>', 'local ULID')
    .requiredOption('--ulid-peer <addr>', 'peer ULID')
    .option('--ls-local <addr...>', 'local locators (ULID included)', [])
    .option('--ls-peer <addr...>', 'peer locators (ULID included)', [])
    .option('--lp-local <addr>', 'current local locator (default: the ULID)')
    .option('--lp-peer <addr>', 'current peer locator (default: the ULID)')
    .requiredOption('--ct-local <tag>', 'our context tag (47 bits): peers put it in payload headers', parseTag)
    .requiredOption('--ct-peer <tag>', "the peer's context tag (47 bits)", parseTag)
    .option('--fii <n>', 'forked instance identifier', parseId, 0)
    .option('--json', 'machine-readable output')
    .action(function (this: Command, o: { id: number; ulidLocal: string; ulidPeer: string; lsLocal: string[]; lsPeer: string[]; lpLocal?: string; lpPeer?: string; ctLocal: bigint; ctPeer: bigint; fii: number; json?: boolean }) {
      const p = pins(this);
      const st = readState(p);
      if (!st) throw new Shim6Error('SHIM6_ERR_NOT_UP', "the data plane is not up here; run 'shim6ctl dataplane up'");
      const view = withMaps(p, (m) => {
        contextAdd(m, st, { ...o, lsLocal: o.lsLocal.flatMap((v) => collect(v)), lsPeer: o.lsPeer.flatMap((v) => collect(v)) });
        return contextView(m, o.id);
      });
      out(o.json ? toJson(view) : `context ${o.id} added: ${o.ulidLocal} -> ${o.ulidPeer} via ${view?.lpLocal} -> ${view?.lpPeer}`);
    });
  ctx.command('set')
    .description('move a context to another locator pair')
    .argument('<id>', 'context id', parseId)
    .requiredOption('--lp-local <addr>', 'new local locator')
    .requiredOption('--lp-peer <addr>', 'new peer locator')
    .option('--json', 'machine-readable output')
    .action(function (this: Command, id: number, o: { lpLocal: string; lpPeer: string; json?: boolean }) {
      const view = withMaps(pins(this), (m) => {
        contextSetPair(m, id, o.lpLocal, o.lpPeer);
        return contextView(m, id);
      });
      out(o.json ? toJson(view) : `context ${id} now uses ${view?.lpLocal} -> ${view?.lpPeer}`);
    });
  ctx.command('del')
    .description('remove a context and its peer ULID route')
    .argument('<id>', 'context id', parseId)
    .action(function (this: Command, id: number) {
      const p = pins(this);
      withMaps(p, (m) => contextDel(m, readState(p), id));
      out(`context ${id} removed`);
    });
  ctx.command('list')
    .description('list contexts with locators, tags and counters')
    .option('--json', 'machine-readable output')
    .action(function (this: Command, o: { json?: boolean }) {
      const rows = withMaps(pins(this), (m) => contextList(m));
      if (o.json) return out(toJson(rows));
      if (!rows.length) return out('(no contexts)');
      out(table(['ID', 'ULID LOCAL', 'ULID PEER', 'LOCATOR PAIR', 'CT LOCAL', 'CT PEER', 'TX PKTS', 'RX PKTS'],
        rows.map((r) => [r.id, r.ulidLocal, r.ulidPeer, r.shimmed ? `${r.lpLocal} -> ${r.lpPeer}` : '(ULIDs)', r.ctLocal, r.ctPeer, r.stats.txPackets, r.stats.rxPackets])));
    });

  // ---- stats ----
  // ---- the agent ----
  program.command('contexts')
    .description("the agent's Shim6 contexts: state, ULIDs, locator lists with verification, current pair, tags, ages, counters")
    .option('--json', 'machine-readable output')
    .action(async function (this: Command, o: { json?: boolean }) {
      const rows = await controlRequest<ContextView[]>(agentSocket(this), 'contexts');
      if (o.json) return out(toJson(rows));
      if (rows.length === 0) return out('no contexts');
      for (const c of rows) {
        out(`${c.ctLocal ?? '-'}  ${c.state}  ${c.ulidLocal} -> ${c.ulidPeer}${c.fii ? ` fii ${c.fii}` : ''}`);
        out(`  peer tag ${c.ctPeer ?? '-'}   pair ${c.lpLocal} -> ${c.lpPeer}   age ${ageText(c.ageS)}   in state ${ageText(c.stateAgeS)}   last control ${ageText(c.lastControlAgoS)} ago${c.updatePending ? '   update pending' : ''}`);
        out(`  local:  ${c.lsLocal.map((l) => `${l.addr} (${l.method})`).join(', ') || '-'}`);
        out(`  peer:   ${c.lsPeer.map((p) => `${p.addr} (${p.verification}${p.usable ? '' : ', unusable'})`).join(', ') || '-'}`);
        if (c.reap) {
          const r = c.reap;
          out(`  REAP: ${r.state}, send timeout ${r.sendTimeoutMs} ms${r.hotStandby ? ', hot standby' : ''}, standby ${r.standby ? `${r.standby.local} -> ${r.standby.peer}` : '-'}, probes ${r.probesSent} sent/${r.probesReceived} received, failures ${r.failures}`);
          if (r.lastSwitch) out(`  last switch: ${r.lastSwitch.reason} to ${r.lastSwitch.to.local} -> ${r.lastSwitch.to.peer}`);
        }
        if (c.dataplane) out(`  data plane: id ${c.dataplane.id}, uplink ${c.dataplane.uplink}, ${c.dataplane.shimmed ? 'shimmed' : 'on the ULIDs'}, tx ${c.dataplane.txPackets} pkts/${c.dataplane.txBytes} B, rx ${c.dataplane.rxPackets} pkts/${c.dataplane.rxBytes} B`);
      }
    });
  program.command('sockets')
    .description('open sockets that set RFC 6316 options (SOL_SHIM) or sent shim ancillary data, by context')
    .option('--json', 'machine-readable output')
    .action(async function (this: Command, o: { json?: boolean }) {
      const rows = await controlRequest<SocketView[]>(agentSocket(this), 'sockets');
      if (o.json) return out(toJson(rows));
      if (rows.length === 0) return out('no sockets');
      const byCtx = new Map<string, SocketView[]>();
      for (const r of rows) {
        const k = r.ctLocal === null ? 'no context' : `context ${r.ctLocal}${r.fii ? ` (fork, fii ${r.fii})` : ''}`;
        byCtx.set(k, [...(byCtx.get(k) ?? []), r]);
      }
      for (const [k, rs] of byCtx) {
        out(k);
        for (const r of rs) out(`  ${r.local ?? '-'} -> ${r.peer ?? '-'}  pid ${r.pid} uid ${r.uid}  cookie ${r.cookie}  ${r.options.join(', ')}  (last ${r.lastSetAgoS} s ago)`);
      }
    });
  const agent = program.command('agent').description('talk to shim6d');
  agent.command('status')
    .description('agent status: uplinks, HBA set, locators, contexts by state, counters')
    .option('--json', 'machine-readable output')
    .action(async function (this: Command, o: { json?: boolean }) {
      const s = await controlRequest<Record<string, unknown>>(agentSocket(this), 'status');
      if (o.json) return out(toJson(s));
      const loc = (s.locators as Array<{ addr: string; method: string }>).map((l) => `${l.addr} (${l.method})`).join(', ');
      out(`shim6d pid ${s.pid}, up ${s.uptimeS}s, socket ${s.socket}`);
      out(`shim device ${s.shimDev}, gso ${s.gso}, uplinks ${(s.uplinks as Array<{ name: string }>).map((u) => u.name).join(', ')}`);
      out(`locators: ${loc || '-'}`);
      out(`contexts: ${Object.entries(s.contexts as Record<string, number>).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}`);
    });
  agent.command('log-level')
    .description("show the agent's log level, or set it (trace, debug, info, warn, error, fatal, silent) until the next start")
    .argument('[level]', 'the new level')
    .option('--json', 'machine-readable output')
    .action(async function (this: Command, level: string | undefined, o: { json?: boolean }) {
      const r = await controlRequest<{ level: string; previous?: string }>(agentSocket(this), 'log-level', level === undefined ? {} : { level });
      if (o.json) return out(toJson(r));
      out(r.previous === undefined ? r.level : `log level ${r.level} (was ${r.previous})`);
    });
  program.command('probe')
    .description('start a REAP exploration of a context now (as negative feedback would)')
    .argument('<ct>', 'local context tag (0x-hex or decimal)')
    .option('--json', 'machine-readable output')
    .action(async function (this: Command, ct: string, o: { json?: boolean }) {
      const r = await controlRequest<ContextView>(agentSocket(this), 'probe', { ct });
      out(o.json ? toJson(r) : `context ${r.ctLocal}: REAP ${r.reap?.state ?? '-'}, pair ${r.lpLocal} -> ${r.lpPeer}`);
    });
  agent.command('remove')
    .description('discard a context (both ends should: the peer keeps its own until it idles out)')
    .argument('<ct>', 'local context tag (0x-hex or decimal)')
    .option('--json', 'machine-readable output')
    .action(async function (this: Command, ct: string, o: { json?: boolean }) {
      const r = await controlRequest<{ removed: string }>(agentSocket(this), 'remove', { ct });
      out(o.json ? toJson(r) : `context ${r.removed} removed`);
    });
  agent.command('set-pair')
    .description('move a context to another locator pair (verified peer locators only)')
    .argument('<ct>', 'local context tag (0x-hex or decimal)')
    .requiredOption('--local <addr>', 'local locator')
    .requiredOption('--peer <addr>', 'peer locator')
    .option('--json', 'machine-readable output')
    .action(async function (this: Command, ct: string, o: { local: string; peer: string; json?: boolean }) {
      const r = await controlRequest<ContextView>(agentSocket(this), 'set-pair', { ct, local: o.local, peer: o.peer });
      out(o.json ? toJson(r) : `context ${r.ctLocal} now on ${r.lpLocal} -> ${r.lpPeer}`);
    });

  program.command('report')
    .description("plot a timeline recorded by the demo (make demo ARGS='--record FILE') as SVG: throughput, locator pair, REAP state, failure and switch markers")
    .argument('<file>', 'the timeline (JSON)')
    .option('-o, --output <svg>', "where to write the SVG (default: FILE with .svg instead of .json; '-' for stdout)")
    .option('--title <text>', 'title of the plot')
    .option('--json', 'machine-readable output (what was written)')
    .action(function (this: Command, file: string, o: { output?: string; title?: string; json?: boolean }) {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new Shim6Error('SHIM6_ERR_NOT_FOUND', `${file}: ${(err as Error).message}`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new Shim6Error('SHIM6_ERR_USAGE', `${file} is not JSON: ${(err as Error).message}`);
      }
      const tl = parseTimeline(parsed, file);
      const svg = renderReport(tl, o.title === undefined ? {} : { title: o.title });
      const dest = o.output ?? (file.endsWith('.json') ? file.slice(0, -5) : file) + '.svg';
      if (dest === '-') {
        process.stdout.write(svg);
        return;
      }
      fs.writeFileSync(dest, svg);
      const info = { output: dest, bytes: Buffer.byteLength(svg), samples: tl.samples.length, events: tl.events.map((e) => e.kind), pauses: tl.pauses.length };
      out(o.json ? toJson(info) : `wrote ${dest} (${tl.samples.length} samples, events: ${info.events.join(', ') || 'none'})`);
    });

  program.command('stats')
    .description('drop counters by reason and per-context traffic')
    .option('--json', 'machine-readable output')
    .action(function (this: Command, o: { json?: boolean }) {
      const s = withMaps(pins(this), (m) => ({
        drops: m.drops(),
        counters: m.counters(),
        contexts: m.ctxIds().map((id) => ({ id, ...m.stats(id) })),
      }));
      if (o.json) return out(toJson(s));
      out(table(['DROP REASON', 'PACKETS'], Object.entries(s.drops).map(([k, v]) => [k, v.toString()])));
      out('');
      out(table(['COUNTER', 'VALUE'], Object.entries(s.counters).map(([k, v]) => [k, v.toString()])));
      out('');
      out(table(['CONTEXT', 'TX PKTS', 'TX BYTES', 'RX PKTS', 'RX BYTES'], s.contexts.map((c) => [c.id, c.txPackets.toString(), c.txBytes.toString(), c.rxPackets.toString(), c.rxBytes.toString()])));
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return EXIT_CODES.SHIM6_ERR_USAGE;
    }
    const e = err instanceof Shim6Error ? err : fromSystem(err, 'unexpected failure');
    process.stderr.write(`shim6ctl: ${e.message}\n`);
    return EXIT_CODES[e.code] ?? 1;
  }
}

const isMain = isEntryPoint(import.meta.url);
if (isMain) {
  main(process.argv).then((code) => { process.exitCode = code; });
}
