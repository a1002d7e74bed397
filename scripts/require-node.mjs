// The one Node.js version check (package.json engines: >= 20), for the places that run before
// anything else could fail on an old Node: bin/pallas.mjs, scripts/ensure.mjs, the install script.
export function requireNode(who) {
  const [major] = process.versions.node.split('.').map(Number);
  if (major >= 20) return;
  process.stderr.write(
    `${who}: Node.js ${process.versions.node} is too old; Pallas needs Node 20 or later (Debian 12's nodejs is 18; NodeSource's node_20.x works)\n`,
  );
  process.exit(1);
}
