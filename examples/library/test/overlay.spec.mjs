// A test suite of this project's own that brings its lab up through overlab's library, and
// proves with overlab's checks and with the stock docker CLI that the overlays carry traffic
// across hosts and keep their containers apart. Plain JavaScript: no TypeScript needed here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Lab } from 'overlab';

const run = promisify(execFile);

describe('two overlays across two hosts, brought up by this suite', function () {
  // Seconds on netns; minutes with VMs.
  this.timeout(600_000);
  let lab;

  before(async () => {
    // Under a name of its own (lib-example-3f9a): two suites on one machine never meet.
    lab = await Lab.up(fileURLToPath(new URL('../lab.yaml', import.meta.url)));
  });

  // Also run by Ctrl-C (or SIGTERM) during the suite, and by a watchdog if the process dies.
  after(() => lab?.down());

  it('web reaches app by name over front, across hosts', () => lab.reach('web', 'app', { over: 'front', by: 'name' }));

  it('app reaches db over back', () => lab.reach('app', 'db', { over: 'back' }));

  it('web, on front only, reaches db at none of its addresses', () => lab.cannotReach('web', 'db'));

  it('the stock docker CLI on h1 lists web and pings app on the other host', async () => {
    const env = { ...process.env, ...lab.env('h1') };
    const { stdout: names } = await run('docker', ['ps', '--format', '{{.Names}}'], { env });
    assert.match(names, /^web$/m);
    const { stdout } = await run('docker', ['exec', 'web', 'ping', '-c', '1', '-W', '3', 'app'], { env });
    assert.match(stdout, /1 packets received/);
  });

  it('the container answers with its exit code and output', async () => {
    assert.deepEqual(await lab.exec('app', 'echo hi; exit 3'), { exitCode: 3, stdout: 'hi\n', stderr: '' });
  });

  // A fault for the time of a check, undone whatever the check did.
  it('with h2 cut off from the other hosts, web reaches app no more', () =>
    lab.withFault({ kind: 'partition', host: 'h2' }, () => lab.cannotReach('web', 'app')));
});
