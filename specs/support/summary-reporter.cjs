// mocha's spec reporter, closed by one plain summary line ("mocha: N passed, N failed,
// N skipped") that CI systems read as the run's result. With OVERLAB_SUITE_STATS set, the
// three numbers are also appended to that file as a line (scripts/test-suite.sh sums its runs).
const { appendFileSync } = require('node:fs');
const Mocha = require('mocha');

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const s = runner.stats;
      process.stdout.write(`\nmocha: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`);
      if (process.env.OVERLAB_SUITE_STATS) appendFileSync(process.env.OVERLAB_SUITE_STATS, `${s.passes} ${s.failures} ${s.pending}\n`);
    });
  }
}

module.exports = SpecWithSummary;
