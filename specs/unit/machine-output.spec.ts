// What `overlab env`, `config` and `ssh` print is shell-quoted: a lab whose user, address or
// socket path holds `$(...)`, backquotes, quotes or spaces gives text that a shell's `eval`
// turns back into exactly those values, and runs nothing. Checked by printing and by bash.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFlags, dockerHostUrl, envScript, isActive, sshCommandLine, UNSET_SCRIPT, type EngineTarget } from '../../harness/lifecycle/machine.ts';
import { sshCommandArgv } from '../../harness/providers/ssh-hosts.ts';
import type { SshEndpoint } from '../../harness/host.ts';

/** Host keys play no part in what these commands print. */
const KEYS: SshEndpoint['hostKeys'] = { knownHosts: [], recordIn: '/nonexistent/known_hosts', vouchedBy: 'overlab' };

describe('what env, config and ssh print', () => {
  let dir: string;
  let marker: string;
  /** A value that runs `touch MARKER` if a shell ever evaluates it, with quotes and spaces. */
  let evil: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-quote-'));
    marker = join(dir, 'MARKER');
    evil = `a b'c"d $(touch ${marker}) \`touch ${marker}\` $HOME ;touch ${marker}`;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs `script` in bash with OUTPUT set to the printed text; returns its stdout, once sure it ran nothing of OUTPUT. */
  const bash = (script: string, output: string): string => {
    rmSync(marker, { force: true });
    const stdout = execFileSync('bash', ['-c', script], { cwd: dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/nonexistent', OUTPUT: output }, encoding: 'utf8' });
    expect(existsSync(marker), `the shell ran a printed value:\n${output}`).to.equal(false);
    return stdout;
  };
  /** The words a shell makes of `line`, as `eval "set -- $line"` does. */
  const words = (line: string): string[] => bash('eval "set -- $OUTPUT"; printf "%s\\0" "$@"', line).split('\0').slice(0, -1);

  describe('env', () => {
    it('prints plain values bare, as docker-machine env did, with the command to run it again', () => {
      const target: EngineTarget = { lab: 'tutorial', host: 'mhs-demo0', dockerHost: 'unix:///run/overlab/tutorial/mhs-demo0/docker.sock' };
      expect(envScript(target, 'tutorial')).to.equal(
        [
          'export DOCKER_HOST=unix:///run/overlab/tutorial/mhs-demo0/docker.sock;',
          'unset DOCKER_TLS_VERIFY DOCKER_CERT_PATH;',
          'export DOCKER_MACHINE_NAME=mhs-demo0;',
          '# Run this command to configure your shell:',
          '# eval "$(overlab env --lab tutorial mhs-demo0)"',
        ].join('\n'),
      );
      expect(envScript(target)).to.include('# eval "$(overlab env mhs-demo0)"');
    });

    it("works in the tutorials' unquoted eval $(...) too, and unsets what TLS settings there were", () => {
      const out = envScript({ lab: 'tutorial', host: 'mhs-demo0', dockerHost: 'unix:///run/overlab/tutorial/mhs-demo0/docker.sock' });
      expect(bash('export DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=/c; eval $OUTPUT; printf %s "$DOCKER_HOST ${DOCKER_TLS_VERIFY-unset} ${DOCKER_CERT_PATH-unset} $DOCKER_MACHINE_NAME"', out)).to.equal(
        'unix:///run/overlab/tutorial/mhs-demo0/docker.sock unset unset mhs-demo0',
      );
    });

    it('single-quotes a socket path with $(...), backquotes, quotes and spaces, and eval gives it back literally', () => {
      const socketPath = `/tmp/${evil}/docker.sock`;
      const target: EngineTarget = { lab: 'x', host: 'h0', dockerHost: dockerHostUrl({ kind: 'socket', socketPath }) };
      const out = envScript(target);
      const quoted = `'unix:///tmp/a b'\\''c"d $(touch ${marker}) \`touch ${marker}\` $HOME ;touch ${marker}/docker.sock'`;
      expect(out.split('\n')[0]).to.equal(`export DOCKER_HOST=${quoted};`);
      expect(bash('eval "$OUTPUT"; printf %s "$DOCKER_HOST"', out)).to.equal(`unix://${socketPath}`);
    });

    it("quotes an ssh endpoint's user and address, and the host name", () => {
      const ssh: SshEndpoint = { username: `u${evil}`, host: `10.0.0.1${evil}`, port: 2222, privateKeyPath: '/k', hostKeys: KEYS };
      const target: EngineTarget = { lab: 'x', host: `h ${evil}`, dockerHost: dockerHostUrl({ kind: 'ssh', ssh, socketPath: '/run/docker.sock' }) };
      const out = envScript(target, `my lab ${evil}`);
      expect(bash('eval "$OUTPUT"; printf "%s\\n%s" "$DOCKER_HOST" "$DOCKER_MACHINE_NAME"', out)).to.equal(`ssh://u${evil}@10.0.0.1${evil}:2222\nh ${evil}`);
    });

    it('leaves out the hint when a newline in a name would end its comment line', () => {
      const out = envScript({ lab: 'x', host: `h\ntouch ${marker}`, dockerHost: 'unix:///s' });
      expect(out).to.not.include('# eval');
      expect(bash('eval "$OUTPUT"; printf %s "$DOCKER_MACHINE_NAME"', out)).to.equal(`h\ntouch ${marker}`);
    });

    it('--unset unsets what env sets', () => {
      expect(bash('DOCKER_HOST=x DOCKER_MACHINE_NAME=y; eval "$OUTPUT"; printf %s "${DOCKER_HOST-unset}${DOCKER_MACHINE_NAME-unset}"', UNSET_SCRIPT)).to.equal('unsetunset');
    });
  });

  describe('config', () => {
    it('prints one -H= word, bare when plain, so `docker $(overlab config HOST)` splits it right', () => {
      expect(configFlags({ lab: 'l', host: 'h', dockerHost: 'unix:///run/overlab/l/h/docker.sock' })).to.equal('-H=unix:///run/overlab/l/h/docker.sock');
    });

    it('quotes a socket path or ssh user with $(...), quotes and spaces into one word that eval gives back literally', () => {
      const socket = configFlags({ lab: 'l', host: 'h', dockerHost: dockerHostUrl({ kind: 'socket', socketPath: `/tmp/${evil}` }) });
      expect(socket).to.equal(`'-H=unix:///tmp/a b'\\''c"d $(touch ${marker}) \`touch ${marker}\` $HOME ;touch ${marker}'`);
      expect(words(socket)).to.deep.equal([`-H=unix:///tmp/${evil}`]);
      const ssh = configFlags({ lab: 'l', host: 'h', dockerHost: dockerHostUrl({ kind: 'ssh', socketPath: '/s', ssh: { username: evil, host: `h${evil}`, port: 22, privateKeyPath: '/k', hostKeys: KEYS } }) });
      expect(words(ssh)).to.deep.equal([`-H=ssh://${evil}@h${evil}:22`]);
      expect(bash('eval "printf %s $OUTPUT"', ssh)).to.equal(`-H=ssh://${evil}@h${evil}:22`);
    });
  });

  describe('ssh --dry-run', () => {
    it('prints a command line whose words are exactly the argv ssh would get', () => {
      const endpoint: SshEndpoint = { username: `root${evil}`, host: `172.28.128.6${evil}`, port: 22, privateKeyPath: `/keys/${evil}/id`, hostKeys: KEYS, proxy: ['nc', `172.28.128.6${evil}`, '22'] };
      const argv = sshCommandArgv(endpoint, ['hostname', `; touch ${marker}`]);
      const line = sshCommandLine(argv);
      expect(line).to.match(/^ssh -i '\/keys\/a b'\\''c"d \$\(touch /);
      expect(line).to.not.include('\n');
      expect(words(line)).to.deep.equal(argv);
    });

    it('prints a plain command line bare', () => {
      expect(sshCommandLine(['ssh', '-i', '/k/id', '-p', '22', 'root@172.28.128.6', 'hostname'])).to.equal('ssh -i /k/id -p 22 root@172.28.128.6 hostname');
    });
  });

  describe('ls ACTIVE', () => {
    it('is the host whose engine DOCKER_HOST names exactly', () => {
      expect(isActive('unix:///a/docker.sock', 'unix:///a/docker.sock')).to.equal(true);
      expect(isActive('unix:///a/docker.sock', 'unix:///b/docker.sock')).to.equal(false);
      expect(isActive('unix:///a/docker.sock', undefined)).to.equal(false);
      expect(isActive(undefined, undefined)).to.equal(false);
    });
  });
});
