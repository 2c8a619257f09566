#!/usr/bin/env node
// The "install" script of the npm package (npm pack; npm install -g
// shim6-VERSION.tgz): builds the BPF object and the native addon that
// embeds it (build/shim6.node) from the sources the package ships, with the
// toolchain of scripts/deps.sh (clang, bpftool, libbpf-dev, libelf-dev,
// zlib1g-dev, g++, and Node's headers). The same steps as the Makefile's
// bpf and addon targets; in a checkout (a .git next to package.json) it
// does nothing: there, `make` builds.
//   SHIM6_SKIP_BUILD=1   install without building (shim6ctl --help works;
//                        anything needing the addon exits 69 and says so)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (s) => process.stderr.write(`shim6: ${s}\n`);

if (fs.existsSync(path.join(root, '.git'))) {
  say('a checkout: run make (the install script builds only packed installs)');
  process.exit(0);
}
if (process.env.SHIM6_SKIP_BUILD === '1') {
  say('SHIM6_SKIP_BUILD=1: the native addon is not built');
  process.exit(0);
}

const env = process.env;
const CLANG = env.CLANG ?? 'clang';
const BPFTOOL = env.BPFTOOL ?? 'bpftool';
const CC = env.CC ?? 'gcc';
const CXX = env.CXX ?? 'g++';
const build = path.join(root, 'build');

function run(cmd, args, opts = {}) {
  say(`${cmd} ${args.join(' ')}`);
  try {
    return execFileSync(cmd, args, { cwd: root, stdio: ['ignore', opts.capture ? 'pipe' : 'inherit', 'inherit'], encoding: 'utf8' });
  } catch (err) {
    if (err.code === 'ENOENT') {
      say(`${cmd} not found: install the toolchain (scripts/deps.sh in the source tree: clang, bpftool, libbpf-dev, libelf-dev, zlib1g-dev, g++)`);
    }
    process.exit(1);
  }
}

function nodeInclude() {
  const candidates = [
    env.NODE_INC,
    path.resolve(process.execPath, '../../include/node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'node_api.h')));
  if (!found) {
    say(`Node's headers (node_api.h) are not in ${candidates.join(', ')}: install them (Debian: libnode-dev) or set NODE_INC`);
    process.exit(1);
  }
  return found;
}

const addonApi = createRequire(path.join(root, 'package.json'))('node-addon-api').include_dir;
const arch = execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();
fs.mkdirSync(build, { recursive: true });

const bpfObj = path.join(build, 'shim6.bpf.o');
run(CLANG, ['-g', '-O2', '-target', 'bpf', '-Wall', '-Werror', `-I/usr/include/${arch}-linux-gnu`, '-c', 'bpf/shim6.bpf.c', '-o', bpfObj]);
const skel = run(BPFTOOL, ['gen', 'skeleton', bpfObj, 'name', 'shim6_bpf'], { capture: true });
fs.writeFileSync(path.join(build, 'shim6.skel.h'), skel);
run(CC, ['-O2', '-g', '-fPIC', '-Wall', '-Ibuild', '-c', 'native/src/skel.c', '-o', 'build/skel.o']);
const cxxFlags = ['-std=c++17', '-O2', '-g', '-fPIC', '-Wall', `-I${nodeInclude()}`, `-I${addonApi}`, '-Ibuild',
  '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-fexceptions'];
const objs = ['build/skel.o'];
for (const src of fs.readdirSync(path.join(root, 'native/src')).filter((f) => f.endsWith('.cc')).sort()) {
  const obj = `build/${src.replace(/\.cc$/, '.o')}`;
  run(CXX, [...cxxFlags, '-c', `native/src/${src}`, '-o', obj]);
  objs.push(obj);
}
run(CXX, ['-shared', '-o', 'build/shim6.node', ...objs, '-lbpf', '-lelf', '-lz']);
for (const f of fs.readdirSync(build)) if (f.endsWith('.o') && f !== 'shim6.bpf.o') fs.rmSync(path.join(build, f));
say('built build/shim6.node (the BPF object is embedded in it)');
