#!/usr/bin/env node
// The overlab command: loads the TypeScript CLI through tsx, so a clone runs without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../harness/cli/main.ts');
await main(process.argv);
