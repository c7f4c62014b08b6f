// The engine watch of long engine calls (guardEngine): checks paced by their own cost, so that a
// slow check (systemctl over SSH into an emulated VM) takes at most a fifth of the time, a quick
// one (netns) runs every 100 ms; a death is still seen and named. And the check itself goes
// without sudo on SSH hosts (a query any user may make).
import { expect } from 'chai';
import { EngineDiedError } from '../../harness/errors.ts';
import { guardEngine } from '../../harness/engine/client.ts';
import type { ExecOptions, ExecResult, HostAccess, HostRunner } from '../../harness/host.ts';
import { remoteCommand } from '../../harness/remote/shell.ts';
import { SystemdServices } from '../../harness/remote/systemd-services.ts';
import { watchPause } from '../../harness/wait.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A host whose engine check takes `checkMs` and says the engine runs until `diesAt` (ms from now). */
function host(name: string, checkMs: number, diesAt = Infinity): HostAccess & { checks: number } {
  const born = Date.now();
  const h = {
    name,
    checks: 0,
    services: {
      isRunning: async () => {
        h.checks++;
        await sleep(checkMs);
        return Date.now() - born < diesAt;
      },
      readLog: async () => 'panic: the engine fell over\n',
      logFile: () => `/var/log/${name}.log`,
    },
  };
  return h as unknown as HostAccess & { checks: number };
}

describe('the engine watch of long engine calls', () => {
  it('pauses four times a check between checks, never under the minimum', () => {
    expect(watchPause(0, 100)).to.equal(100);
    expect(watchPause(20, 100)).to.equal(100);
    expect(watchPause(50, 100)).to.equal(200);
    expect(watchPause(1500, 100)).to.equal(6000);
    expect(watchPause(1000, 100, 0.5)).to.equal(1000);
  });

  it('checks a quick engine every 100 ms, a slow one (80 ms a check) spends at most about a fifth of the time checking', async function () {
    this.timeout(5000);
    const quick = host('q', 0);
    await guardEngine([quick], 'while waiting', () => sleep(1050));
    expect(quick.checks).to.be.within(8, 11);
    const slow = host('s', 80);
    const started = Date.now();
    await guardEngine([slow], 'while waiting', () => sleep(2000));
    const spent = slow.checks * 80;
    expect(spent / (Date.now() - started), `${slow.checks} checks`).to.be.below(0.3);
    expect(slow.checks).to.be.within(3, 6);
  });

  it('checks every host at once, and names the first dead one in the hosts\' order, within a round of checks', async function () {
    this.timeout(5000);
    const hosts = [host('h1', 50), host('h2', 50, 300), host('h3', 50, 300)];
    const started = Date.now();
    const error = await guardEngine(hosts, 'while deploying service web', () => sleep(4000)).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(EngineDiedError);
    expect((error as Error).message).to.include('h2');
    expect(Date.now() - started).to.be.below(900);
    for (const h of hosts) expect(h.checks, h.name).to.be.at.least(2);
  });

  it('asks systemd whether a unit runs without sudo on an SSH host (unprivileged), and the remote command has no sudo', async () => {
    const calls: { argv: readonly string[]; options: ExecOptions }[] = [];
    const runner: HostRunner = {
      exec: async (argv, options = {}): Promise<ExecResult> => {
        calls.push({ argv, options });
        return { exitCode: 0, stdout: '', stderr: '' };
      },
    };
    expect(await new SystemdServices('h1', runner).isRunning('dockerd')).to.equal(true);
    expect(calls).to.deep.equal([{ argv: ['systemctl', 'is-active', '--quiet', 'docker.service'], options: { unprivileged: true } }]);
    expect(remoteCommand(['systemctl', 'is-active', '--quiet', 'docker.service'], { sudo: false })).to.equal('systemctl is-active --quiet docker.service');
  });

  it('takes "not running" (3) from the unprivileged query, and asks again as root when the query itself failed (no system bus for other users)', async () => {
    const answers = (unprivileged: number, root: number) => {
      const calls: ExecOptions[] = [];
      const runner: HostRunner = { exec: async (_argv, options = {}) => (calls.push(options), { exitCode: options.unprivileged ? unprivileged : root, stdout: '', stderr: '' }) };
      return { calls, services: new SystemdServices('h1', runner) };
    };
    const stopped = answers(3, 0);
    expect(await stopped.services.isRunning('dockerd')).to.equal(false);
    expect(stopped.calls).to.deep.equal([{ unprivileged: true }]);
    const noBus = answers(1, 0);
    expect(await noBus.services.isRunning('dockerd')).to.equal(true);
    expect(noBus.calls).to.deep.equal([{ unprivileged: true }, {}]);
    expect(await answers(1, 3).services.isRunning('dockerd')).to.equal(false);
  });
});
