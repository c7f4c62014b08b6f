// The layering of harness/, checked in CI (`npm run lint:layers`). From the ground up:
//   errors, host contract, events, quoting, waiting, system/  (the ground floor)
//   lab/, state/, report/                                      (pure planning, records)
//   remote/, engine/, kv/, provision/, render/, probes/, faults/ (shared machinery)
//   providers/                                                 (create hosts; one folder each)
//   lifecycle/                                                 (up, down, test, status)
//   cli/, api/                                                 (flags in, text out; the library's entry)
// Each floor has a rule naming every floor above it: nothing imports a floor above its own.
// Above providers/, code reaches a provider only through the contract (provider.ts, index.ts);
// no provider imports another provider's folder (what two share lives beside provider.ts);
// harness/ never imports specs/; and no module imports itself round a cycle, type-only imports
// included (tsPreCompilationDeps). specs/unit/layers.spec.ts breaks each rule on purpose.
const GROUND = '^harness/(?:[^/]+\\.ts$|system/)';
const PLANNING = '^harness/(?:lab|state|report)/';
const MACHINERY = '^harness/(?:remote|engine|kv|provision|render|probes|faults)/';
const PROVIDERS = '^harness/providers/';
const LIFECYCLE = '^harness/lifecycle/';
const CLI = '^harness/cli/';
const API = '^harness/api/';
const above = (...floors) => `(?:${floors.join('|')})`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'ground-imports-above',
      severity: 'error',
      comment: 'The ground floor (errors, the host contract, events, quoting, waiting, system/) imports only itself and node.',
      from: { path: GROUND },
      to: { path: above(PLANNING, MACHINERY, PROVIDERS, LIFECYCLE, CLI, API) },
    },
    {
      name: 'planning-imports-above',
      severity: 'error',
      comment: 'Planning and records (lab/, state/, report/) are pure: no SSH, engines, KV stores, provisioning, probes or faults, no providers.',
      from: { path: PLANNING },
      to: { path: above(MACHINERY, PROVIDERS, LIFECYCLE, CLI, API) },
    },
    {
      name: 'machinery-imports-above',
      severity: 'error',
      comment: 'Shared machinery works through the host contract (harness/host.ts), never through providers, lifecycle or the CLI.',
      from: { path: MACHINERY },
      to: { path: above(PROVIDERS, LIFECYCLE, CLI, API) },
    },
    {
      name: 'provider-imports-above',
      severity: 'error',
      from: { path: PROVIDERS },
      to: { path: above(LIFECYCLE, CLI, API) },
    },
    {
      name: 'lifecycle-imports-above',
      severity: 'error',
      from: { path: LIFECYCLE },
      to: { path: above(CLI, API) },
    },
    {
      name: 'provider-internals-from-above',
      severity: 'error',
      comment: 'Lifecycle, the CLI and the library reach a provider only through the contract: providers/provider.ts and the registry providers/index.ts.',
      from: { path: above(LIFECYCLE, CLI, API) },
      to: { path: PROVIDERS, pathNot: '^harness/providers/(?:provider|index)\\.ts$' },
    },
    {
      name: 'provider-imports-another-provider',
      severity: 'error',
      comment: 'A provider folder imports only itself and the shared files beside provider.ts.',
      from: { path: '^harness/providers/([^/]+)/' },
      to: { path: '^harness/providers/[^/]+/', pathNot: '^harness/providers/$1/' },
    },
    {
      name: 'harness-imports-specs',
      severity: 'error',
      from: { path: '^harness/' },
      to: { path: '^specs/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No module imports itself round a cycle, type-only imports included: move what two modules share down into a module of its own.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(?:node_modules|dist)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
