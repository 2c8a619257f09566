// Prints the production dependencies that 'make install' copies into
// $(PKGLIBDIR)/node_modules, one path a line (node_modules/<name>), from
// package-lock.json and the installed node_modules: no network, no npm.
// node-addon-api is left out: C++ headers for building the addon only.
import fs from 'node:fs';

const SKIP = new Set(['node_modules/node-addon-api']);
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8'));
let missing = 0;
for (const [key, pkg] of Object.entries(lock.packages ?? {})) {
  if (!key.startsWith('node_modules/') || pkg.dev || pkg.devOptional || pkg.link || SKIP.has(key)) continue;
  // Nested packages come with the package that holds them.
  if (key.slice('node_modules/'.length).includes('/node_modules/')) continue;
  if (!fs.existsSync(key)) {
    if (pkg.optional) continue;
    process.stderr.write(`prod-deps: ${key} is not installed (run 'npm ci')\n`);
    missing++;
    continue;
  }
  process.stdout.write(`${key}\n`);
}
process.exit(missing ? 1 : 0);
