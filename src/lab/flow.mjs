#!/usr/bin/env node
// Traffic tool for namespace tests, benchmarks and the demo (plain JS, run with
// `ip netns exec NS node flow.mjs ...`). Every mode prints one JSON line.
//
//   tcp-sink   --bind A --port P                 accept one connection, hash what arrives
//   tcp-send   --to A --port P --bytes N [--from A] [--seed S] [--pace-ms MS --pace-bytes N]
//              [--policy FLAGS --addon PATH --bpffs DIR --lp-local A --lp-peer A]
//   udp-echo   --bind A --port P                 echo datagrams until killed
//   udp-ping   --to A --port P --size N --count K [--from A] [--interval-ms MS]
//   echo-server --bind A --port P                TCP echo
//   echo-client --to A --port P --interval-ms 10 --duration-ms D [--from A] [--udp-port P]
//       sends a numbered message every interval over TCP (and UDP if --udp-port),
//       reports the longest gap between consecutive echoes, losses, resets;
//       SIGUSR1 ends it early (it still waits 1.5 s for the last echoes)
import net from 'node:net';
import dgram from 'node:dgram';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const args = process.argv.slice(2);
const mode = args.shift();
const opt = {};
for (let i = 0; i < args.length; i += 2) opt[args[i].replace(/^--/, '')] = args[i + 1];
const num = (k, d) => (opt[k] === undefined ? d : Number(opt[k]));
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

function ipv6Bytes(text) {
  const [h, t = ''] = text.split('::');
  const parts = (x) => (x ? x.split(':').map((g) => parseInt(g, 16)) : []);
  const hp = parts(h), tp = text.includes('::') ? parts(t) : [];
  const all = text.includes('::') ? [...hp, ...new Array(8 - hp.length - tp.length).fill(0), ...tp] : hp;
  const b = Buffer.alloc(16);
  all.forEach((g, i) => b.writeUInt16BE(g, 2 * i));
  return b;
}

// --policy FLAGS --addon build/shim6.node --bpffs DIR [--lp-local A --lp-peer A]:
// write this socket's shim6_sock_policy (socket-local storage, keyed by fd),
// as the SOL_SHIM API server does: first open the data plane's socket-policy
// gate (until then egress does not ask sockets for a policy).
const pinDir = () => path.join(opt.bpffs, 'shim6', `net-${fs.statSync('/proc/self/ns/net').ino}`);
async function openPolicyGate() {
  const { DataplaneMaps } = await import(new URL('../../dist/src/dataplane/maps.js', import.meta.url).href);
  const m = DataplaneMaps.open(pinDir());
  try { m.openSockPolicyGate(); } finally { m.close(); }
}
function applyPolicy(sock) {
  const n = createRequire(import.meta.url)(opt.addon);
  const pin = path.join(pinDir(), 'shim6_sock');
  const mapFd = n.objGet(pin);
  const v = Buffer.alloc(40);
  v.writeUInt32LE(Number(opt.policy), 0);
  if (opt['lp-local']) ipv6Bytes(opt['lp-local']).copy(v, 8);
  if (opt['lp-peer']) ipv6Bytes(opt['lp-peer']).copy(v, 24);
  const key = Buffer.alloc(4);
  key.writeInt32LE(sock._handle.fd);
  n.mapUpdate(mapFd, key, v, 0);
  n.closeFd(mapFd);
}

function block(seed, i) {
  // 1 MiB of seeded pseudo-random bytes with the block index in front.
  const b = Buffer.alloc(1 << 20);
  let h = crypto.createHash('sha256').update(`${seed}`).digest();
  for (let off = 0; off < b.length; off += 32) { h.copy(b, off); h = crypto.createHash('sha256').update(h).digest(); if (off > 4096) break; }
  for (let off = 8192; off < b.length; off += 8192) b.copy(b, off, 0, 8192);
  b.writeUInt32BE(i, 0);
  return b;
}

if (mode === 'tcp-sink') {
  const srv = net.createServer((s) => {
    const h = crypto.createHash('sha256');
    let bytes = 0, resets = 0;
    const t0 = process.hrtime.bigint();
    s.on('data', (d) => { h.update(d); bytes += d.length; });
    s.on('error', (e) => { resets++; out({ error: e.code }); });
    s.on('close', () => {
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      out({ bytes, sha256: h.digest('hex'), secs, gbps: (bytes * 8) / secs / 1e9, resets });
      srv.close();
    });
  });
  srv.listen(num('port'), opt.bind, () => out({ listening: true }));
} else if (mode === 'tcp-send') {
  const total = num('bytes');
  const seed = opt.seed ?? 'shim6';
  if (opt.policy) await openPolicyGate();
  const s = net.connect({ host: opt.to, port: num('port'), localAddress: opt.from });
  const h = crypto.createHash('sha256');
  const base = block(seed, 0);
  let sent = 0, i = 0;
  const paceMs = num('pace-ms', 0), paceBytes = num('pace-bytes', 1 << 20);
  const pump = () => {
    while (sent < total) {
      const b = Buffer.from(base);
      b.writeUInt32BE(i++, 0);
      const chunk = b.subarray(0, Math.min(b.length, total - sent));
      h.update(chunk);
      sent += chunk.length;
      const ok = s.write(chunk);
      if (paceMs && sent % paceBytes < chunk.length) { setTimeout(pump, paceMs); return; }
      if (!ok) { s.once('drain', pump); return; }
    }
    s.end();
  };
  s.on('connect', () => { if (opt.policy) applyPolicy(s); pump(); });
  s.on('error', (e) => { out({ error: e.code, sent }); process.exit(1); });
  s.on('close', () => out({ bytes: sent, sha256: h.digest('hex') }));
} else if (mode === 'udp-echo') {
  const sock = dgram.createSocket('udp6');
  sock.on('message', (m, r) => sock.send(m, r.port, r.address));
  sock.bind(num('port'), opt.bind, () => out({ listening: true }));
} else if (mode === 'udp-ping') {
  const sock = dgram.createSocket('udp6');
  const size = num('size', 100), count = num('count', 10), interval = num('interval-ms', 5);
  let got = 0, bad = 0, seq = 0;
  sock.on('message', (m) => {
    const i = m.readUInt32BE(0);
    const want = Buffer.alloc(size, i & 0xff); want.writeUInt32BE(i, 0);
    if (m.equals(want)) got++; else bad++;
  });
  sock.bind(0, opt.from, () => {
    const t = setInterval(() => {
      if (seq >= count) { clearInterval(t); setTimeout(() => { out({ sent: count, got, bad }); sock.close(); }, 500); return; }
      const m = Buffer.alloc(size, seq & 0xff); m.writeUInt32BE(seq, 0); seq++;
      sock.send(m, num('port'), opt.to);
    }, interval);
  });
} else if (mode === 'echo-server') {
  const srv = net.createServer((s) => { s.setNoDelay(true); s.pipe(s); s.on('error', () => {}); });
  srv.listen(num('port'), opt.bind, () => out({ listening: true }));
  if (opt['udp-port']) {
    const u = dgram.createSocket('udp6');
    u.on('message', (m, r) => u.send(m, r.port, r.address));
    u.bind(num('udp-port'), opt.bind);
  }
} else if (mode === 'echo-client') {
  const interval = num('interval-ms', 10), duration = num('duration-ms', 5000);
  const s = net.connect({ host: opt.to, port: num('port'), localAddress: opt.from });
  s.setNoDelay(true);
  const MSG = 64;
  let seq = 0, recvBuf = Buffer.alloc(0), expect = 0, lastEcho = 0, maxGap = 0, maxGapAt = 0, corrupt = 0, error = null;
  const t0 = Date.now();
  const timeline = [];
  let u, udpSent = 0, udpGot = 0, udpLast = 0, udpMaxGap = 0;
  s.on('data', (d) => {
    recvBuf = Buffer.concat([recvBuf, d]);
    while (recvBuf.length >= MSG) {
      const m = recvBuf.subarray(0, MSG); recvBuf = recvBuf.subarray(MSG);
      if (m.readUInt32BE(0) !== expect) corrupt++;
      expect++;
      const now = Date.now();
      if (lastEcho && now - lastEcho > maxGap) { maxGap = now - lastEcho; maxGapAt = lastEcho; }
      lastEcho = now;
    }
  });
  s.on('error', (e) => { error = e.code; });
  if (opt['udp-port']) {
    u = dgram.createSocket('udp6');
    u.bind(0, opt.from);
    u.on('message', () => { udpGot++; const now = Date.now(); if (udpLast) udpMaxGap = Math.max(udpMaxGap, now - udpLast); udpLast = now; });
  }
  let stopEarly = false;
  // SIGUSR1: stop sending now and report (a caller that waits for an event, not a duration).
  process.on('SIGUSR1', () => { stopEarly = true; });
  s.on('connect', () => {
    out({ listening: true, connected: true });
    lastEcho = Date.now();
    const t = setInterval(() => {
      const now = Date.now();
      if (now - t0 >= duration || stopEarly) {
        clearInterval(t);
        setTimeout(() => {
          out({ sent: seq, echoed: expect, corrupt, maxGapMs: maxGap, maxGapAt, error, udp: u ? { sent: udpSent, got: udpGot, maxGapMs: udpMaxGap } : undefined, timeline });
          s.destroy(); u?.close();
        }, 1500);
        return;
      }
      const m = Buffer.alloc(MSG, 0x61); m.writeUInt32BE(seq++, 0);
      s.write(m);
      if (u) { u.send(m, num('udp-port'), opt.to); udpSent++; }
      if (seq % 10 === 0) {
        timeline.push([now - t0, expect]);
        if (opt.progress) out({ progress: true, t: now - t0, sent: seq, echoed: expect, gapMs: now - lastEcho });
      }
    }, interval);
  });
} else {
  process.stderr.write(`flow.mjs: unknown mode ${mode}\n`);
  process.exit(64);
}
