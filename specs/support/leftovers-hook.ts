// Root hook of the suite (`npm test`): before any spec, labs that a killed earlier test run left
// on this machine are taken down (see sweepTestLeftovers), and named in the log.
import { sweepTestLeftovers } from '../integration/support/labs.ts';

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    if (process.getuid?.() !== 0) return; // Only root makes (and may remove) namespaces.
    this.timeout(600_000);
    const swept = await sweepTestLeftovers();
    if (swept.length) console.log(`suite: took down what an earlier, killed test run left: ${swept.join(', ')}`);
  },
};
