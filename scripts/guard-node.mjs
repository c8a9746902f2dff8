// Refuses to run on a Node older than the project's pinned runtime (npm puts node_modules/.bin/node,
// the pinned Node 24, first on PATH for every npm script; a bare `node …` typed in a shell may not).
const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  console.error(
    `BatleHub needs Node.js 24 or newer, but this is Node ${process.versions.node} (${process.execPath}).\n` +
      'Run it through npm (`npm start`, `npm test`, `npm run batlehub -- …`) so the pinned Node 24 from\n' +
      'node_modules is used, and install with `npm ci` (not --ignore-scripts, which skips installing it).',
  )
  process.exit(1)
}
