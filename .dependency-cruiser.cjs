// The layering of harness/, checked in CI (`npm run lint:layers`). From the ground up:
//   errors, host contract, events, quoting, waiting, system/  (the ground floor)
//   lab/, state/, report/                                      (pure planning, records)
//   remote/, engine/, kv/, provision/, render/, probes/, faults/ (shared machinery)
//   providers/                                                 (create hosts; one folder each)
//   lifecycle/                                                 (up, down, test, status)
//   cli/                                                       (flags in, text out)
// Nothing imports a floor above its own, harness/ never imports specs/, and no provider
// imports another provider's folder (what two share lives beside provider.ts).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'shared-imports-provider-or-above',
      severity: 'error',
      comment: 'Shared code works through the host contract (harness/host.ts), never through providers, lifecycle, the CLI or the specs.',
      from: { path: '^harness/(?:[^/]+\\.ts$|lab/|state/|report/|system/|remote/|engine/|kv/|provision/|render/|probes/|faults/)' },
      to: { path: '^(?:harness/(?:providers|lifecycle|cli)/|specs/)' },
    },
    {
      name: 'ground-imports-machinery',
      severity: 'error',
      comment: 'The ground floor and the pure planning layer do not reach for SSH, engines, provisioning or probes.',
      from: { path: '^harness/(?:[^/]+\\.ts$|lab/|state/|report/|system/)' },
      to: { path: '^harness/(?:remote|engine|provision|render|probes|faults)/' },
    },
    {
      name: 'provider-imports-lifecycle-or-cli',
      severity: 'error',
      from: { path: '^harness/providers/' },
      to: { path: '^(?:harness/(?:lifecycle|cli)/|specs/)' },
    },
    {
      name: 'lifecycle-imports-cli-or-specs',
      severity: 'error',
      from: { path: '^harness/lifecycle/' },
      to: { path: '^(?:harness/cli/|specs/)' },
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
