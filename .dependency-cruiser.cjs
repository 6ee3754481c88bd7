/**
 * The dependency rules of docs/ARCHITECTURE.md, enforced by `npm test` (npm run lint:deps).
 * Arrows point to what a module may import; these rules forbid the rest.
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'sync-engine-is-a-library',
      comment: 'The sync engine knows nothing of catalogues, devices, actions or the NAS store (anchored-fs, the shared filesystem-step module, aside).',
      severity: 'error',
      from: { path: '^server/src/sync/' },
      to: { path: '^(server/src/(?!sync/|anchored-fs/)|device-agents/)' },
    },
    {
      name: 'anchored-fs-imports-only-node',
      comment: 'anchored-fs performs every filesystem step on a root; the NAS and the sync engine share it, so it depends on nothing but node: built-ins.',
      severity: 'error',
      from: { path: '^server/src/anchored-fs/' },
      to: { dependencyTypesNot: ['core'], pathNot: '^server/src/anchored-fs/' },
    },
    {
      name: 'sync-protocol-imports-nothing-of-the-engine',
      severity: 'error',
      from: { path: '^server/src/sync/protocol/' },
      to: { path: '^server/src/sync/(?!protocol/)' },
    },
    {
      name: 'only-store-talks-sql',
      comment: 'better-sqlite3 belongs to the store (and to the sync engine for its own private state).',
      severity: 'error',
      from: { path: '^(server|device-agents)/', pathNot: '^server/src/(store|sync)/' },
      to: { path: 'better-sqlite3' },
    },
    {
      name: 'store-is-the-bottom-layer',
      severity: 'error',
      from: { path: '^server/src/store/' },
      to: { path: '^server/src/(index|catalogue|actions|requests|journal|jobs|http|cli|sync|devices|services)/' },
    },
    {
      name: 'fsutil-is-the-bottom-layer',
      severity: 'error',
      from: { path: '^server/src/fsutil/' },
      to: { path: '^server/src/(?!fsutil/|errors|anchored-fs/)' },
    },
    {
      name: 'actions-do-not-reach-up',
      comment: 'Actions are called by the request processor, HTTP and CLI; never the other way round.',
      severity: 'error',
      from: { path: '^server/src/(actions|journal|jobs|catalogue|index)/' },
      to: { path: '^server/src/(http|cli)/' },
    },
    {
      name: 'device-agent-uses-the-engine-not-the-nas',
      comment: 'The agent runs on devices: it may use the sync engine and small shared helpers, never the NAS store or actions.',
      severity: 'error',
      from: { path: '^device-agents/' },
      to: { path: '^server/src/(store|actions|requests|journal|jobs|catalogue|index|http)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
