// The layer rules of docs/architecture.md ("Dependencies"), checked by `npm run lint:deps` (and CI).
// Each folder of src/ may import only the folders listed for it; cli/ may import anything.
const MAY_IMPORT = {
  core: [],
  models: ['core'],
  benchmarks: ['core'],
  store: ['core'],
  config: ['core', 'models', 'benchmarks'],
  execution: ['core', 'config', 'models', 'store'],
  run: ['core', 'config', 'models', 'benchmarks', 'store', 'execution'],
  analysis: ['core', 'config', 'benchmarks', 'store'],
  report: ['core', 'config', 'benchmarks', 'store', 'analysis'],
  fixtures: ['core'],
};

const layerRules = Object.entries(MAY_IMPORT).map(([layer, allowed]) => ({
  name: `layer-${layer}`,
  comment: `src/${layer}/ may import only ${allowed.length ? allowed.map((a) => `src/${a}/`).join(', ') : 'itself'} (docs/architecture.md)`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: '^src/', pathNot: `^src/(${[layer, ...allowed].join('|')})/` },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'no import cycles',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-orphans',
      comment: 'every module under src/ is imported by something (or is an entry point)',
      severity: 'error',
      from: { orphan: true, path: '^src/', pathNot: ['\\.d\\.ts$', '^src/cli/main\\.ts$'] },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      comment: 'every import resolves',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'src-not-to-dev-dependencies',
      comment: 'the shipped code (dist/ from src/) must not need a devDependency',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
