// Is this module the program node runs? Compared by real path, so that it
// holds through symlinks: npm's bin links (<prefix>/bin/shim6d ->
// ../lib/node_modules/shim6/dist/src/agent/main.js) and the launchers.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export function isEntryPoint(metaUrl: string): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return fs.realpathSync(argv1) === fs.realpathSync(fileURLToPath(metaUrl));
  } catch {
    return false;
  }
}
