// Takes down what a test run that is gone left (scripts/test-suite.sh runs this after it stops a
// run on Ctrl-C or SIGTERM): the same sweep the suite makes before its first spec.
import { sweepTestLeftovers } from '../integration/support/labs.ts';

const swept = await sweepTestLeftovers();
if (swept.length) console.error(`test-suite: took down what the stopped run left: ${swept.join(', ')}`);
