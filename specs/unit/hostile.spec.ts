// Hostile lab files stopped at `validate`: every free string has a grammar, every port and
// range a limit, and the message says what is wrong at file:line:column (exit 65).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabFileError } from '../../harness/errors.ts';
import { parseLab } from '../../harness/lab/load.ts';
import { labText, problemsOf } from './lab-text.ts';

/** A valid swarm lab with one docker host whose `ssh:` block is the given flow mapping. */
function sshLab(ssh: string): string {
  return `name: t\nprovider: ssh\nengine: {mode: swarm}\nhosts:\n  - name: h1\n    address: 172.28.128.5\n    ssh: ${ssh}\n`;
}

/** Problems as "line:column: message". */
function located(text: string): string[] {
  return problemsOf(text).map((p) => `${p.line}:${p.column}: ${p.message}`);
}

const USER_RULE = 'is not a user name: use lower-case letters, digits, "_" and "-", starting with a letter or "_" (and optionally ending with "$")';
const ADDRESS_RULE =
  'is neither an IPv4 address nor a DNS name (labels of letters, digits and dashes, not starting or ending with a dash, joined by dots)';

describe('hostile lab files', () => {
  describe('hosts[].ssh.user', () => {
    const cases: [string, string, string][] = [
      ["'-oProxyCommand=touch x;#'", '"-oProxyCommand=touch x;#"', USER_RULE],
      ["'$(touch x)'", '"$(touch x)"', USER_RULE],
      ["'`id`'", '"`id`"', USER_RULE],
      [`"a'b"`, `"a'b"`, USER_RULE],
      [`'a"b'`, '"a\\"b"', USER_RULE],
      ['"root\\nx"', '"root\\nx"', USER_RULE],
      ['Root', '"Root"', USER_RULE],
      [`'${'u'.repeat(33)}'`, `"${'u'.repeat(33)}"`, 'is longer than 32 characters'],
    ];
    for (const [yaml, shown, rule] of cases) {
      it(`refuses ${yaml}`, () => {
        expect(located(sshLab(`{user: ${yaml}}`))).to.deep.equal([`7:17: hosts[0].ssh.user ${shown} ${rule}`]);
      });
    }

    it('accepts POSIX portable names', () => {
      for (const user of ['root', 'vagrant', '_svc', 'ci-runner_2', 'machine$', 'u'.repeat(32)]) {
        expect(parseLab(sshLab(`{user: '${user}'}`), 'lab.yaml').hosts[0]!.ssh.user).to.equal(user);
      }
    });
  });

  describe('hosts[].ssh.address', () => {
    const cases: [string, string][] = [
      ["'-oProxyCommand=touch x'", `"-oProxyCommand=touch x" ${ADDRESS_RULE}`],
      ["'$(touch x)'", `"$(touch x)" ${ADDRESS_RULE}`],
      ["'h`id`'", `"h\`id\`" ${ADDRESS_RULE}`],
      [`"a'b"`, `"a'b" ${ADDRESS_RULE}`],
      ["'-h1.lab'", `"-h1.lab" ${ADDRESS_RULE}`],
      ["'user@h1'", `"user@h1" ${ADDRESS_RULE}`],
      ["'10.0.0.01'", '"10.0.0.01" is not an IPv4 address (four numbers 0-255, no leading zeros)'],
      ["'256.1.1.1'", '"256.1.1.1" is not an IPv4 address (four numbers 0-255, no leading zeros)'],
    ];
    for (const [yaml, message] of cases) {
      it(`refuses ${yaml}`, () => {
        expect(located(sshLab(`{address: ${yaml}}`))).to.deep.equal([`7:20: hosts[0].ssh.address ${message}`]);
      });
    }

    it('accepts dotted quads and DNS names', () => {
      for (const a of ['10.1.2.3', 'h1', 'build-01.lab.example.org', 'x'.repeat(63) + '.example']) {
        expect(parseLab(sshLab(`{address: '${a}'}`), 'lab.yaml').hosts[0]!.ssh.address).to.equal(a);
      }
    });
  });

  describe('other free strings', () => {
    it('refuses image references outside Docker\'s grammar, and accepts the forms it has', () => {
      const lab = (image: string) => `name: t\nengine: {mode: swarm}\nhosts: [{name: h1}]\nnetworks: [{name: n1, subnet: 10.0.1.0/24}]\ncontainers:\n  - {name: c1, host: h1, networks: [n1], image: '${image}'}\n`;
      const rule =
        'is not an image reference: write [registry[:port]/]path[:tag][@sha256:digest], with lower-case path components (e.g. "busybox:1.36" or "registry.local:5000/team/app@sha256:…")';
      for (const image of ['--privileged', 'busybox;touch x', 'Busybox', 'busybox:$(id)', 'a b', 'busybox@sha256:abc', 'x//y', 'busybox:', '-x']) {
        expect(located(lab(image)), image).to.deep.equal([`6:5: containers[0].image ${JSON.stringify(image)} ${rule}`.replace('6:5', `6:${lab(image).split('\n')[5]!.indexOf("'") + 1}`)]);
      }
      for (const image of ['busybox', 'busybox:1.36.1', 'overlab/busybox:latest', 'registry.local:5000/team/app:v1', 'Registry.Example.com/a/b', `busybox@sha256:${'a'.repeat(64)}`, 'a__b/c-d.e']) {
        expect(parseLab(lab(image), 'lab.yaml').containers[0]!.image, image).to.equal(image);
      }
    });

    it('reports each hostile string at its own node, escaped and cut short', () => {
      const text = labText`
        name: t
        description: "a\x1b[2J\x07"
        box: "../evil box"
        engine: {mode: swarm}
        hosts:
          - name: h1
            box: -evil
            ssh: {key: "-oIdentityFile=x\nHost *"}
        networks: [{name: n1, subnet: 10.0.1.0/24}]
        containers:
          - name: c1
            host: h1
            networks: [{name: n1, aliases: ["-x"]}]
            aliases: ["a;b", "${'a'.repeat(64)}"]
            command: ["sh", "a\0b"]
        specs: {pairs: "some"}
      `;
      expect(located(text)).to.deep.equal([
        '2:14: description "a\\x1b[2J\\x07" holds a control character (only newlines and tabs are allowed)',
        '3:6: box "../evil box" is not a box name: write NAME or OWNER/NAME, with letters, digits, ".", "_" and "-", each starting with a letter or digit',
        '7:10: hosts[0].box "-evil" is not a box name: write NAME or OWNER/NAME, with letters, digits, ".", "_" and "-", each starting with a letter or digit',
        '8:16: hosts[0].ssh.key "-oIdentityFile=x\\nHost *" holds a control character; a key path cannot',
        '13:37: containers[0].networks[0].aliases[0] "-x" is not a DNS label: use lower-case letters, digits and dashes, not starting or ending with a dash, at most 63 characters',
        '14:15: containers[0].aliases[0] "a;b" is not a DNS label: use lower-case letters, digits and dashes, not starting or ending with a dash, at most 63 characters',
        `14:22: containers[0].aliases[1] "${'a'.repeat(40)}…" is not a DNS label: use lower-case letters, digits and dashes, not starting or ending with a dash, at most 63 characters`,
        '15:21: containers[0].command[1] "a\\x00b" holds a NUL character, which no process argument can',
        '16:16: specs.pairs "some" is not a pairs policy: write all, cross-host or "sample N" (N from 1 to 1000000)',
      ]);
    });

    it('refuses a key path read as an option', () => {
      expect(located(sshLab("{key: '-oProxyCommand=x'}"))).to.deep.equal([
        '7:16: hosts[0].ssh.key "-oProxyCommand=x" starts with "-" and would be read as an option; write "./" before it',
      ]);
    });
  });

  describe('numbers', () => {
    it('bounds cpus and memory: 1e30 and .inf are refused, not crashed on', () => {
      const text = labText`
        name: t
        engine: {mode: swarm}
        hosts:
          - name: h1
            cpus: 1e30
            memory: .inf
          - name: h2
            cpus: 65
            memory: 262145
      `;
      expect(located(text)).to.deep.equal([
        '5:11: hosts[0].cpus must be at most 64, not the integer 1e+30',
        '6:13: hosts[0].memory must be at most 262144, not the number .inf',
        '8:11: hosts[1].cpus must be at most 64, not the integer 65',
        '9:13: hosts[1].memory must be at most 262144, not the integer 262145',
      ]);
    });
  });

  describe('ports', () => {
    const kvLab = (kv: string, more = '') => `name: t\nhosts:\n  - {name: kv, role: kv}\n  - {name: h1}\nkv: ${kv}\n${more}`;

    it('refuses kv.port 65535 for etcd: its peer port would be 65536', () => {
      expect(located(kvLab('{type: etcd, port: 65535}'))).to.deep.equal([
        '5:24: kv.port 65535: the etcd peer port 65536 (kv.port + 1) is past 65535; use kv.port 65534 or lower',
      ]);
      expect(parseLab(kvLab('{type: etcd, port: 65534}'), 'lab.yaml').kv.port).to.equal(65534);
      expect(parseLab(kvLab('{type: consul, port: 65535}'), 'lab.yaml').kv.port).to.equal(65535);
    });

    it('refuses kv.port 22: sshd listens there', () => {
      expect(located(kvLab('{port: 22}'))).to.deep.equal(['5:12: kv.port 22 clashes with sshd (port 22) on host "kv"; pick another port']);
    });

    it('refuses an etcd kv.port whose peer port is sshd\'s', () => {
      expect(located(kvLab('{type: etcd, port: 21}'))).to.deep.equal([
        '5:24: kv.port 21: the etcd peer port 22 (kv.port + 1) clashes with sshd (port 22) on host "kv"; pick another port',
      ]);
    });

    it('refuses a consul kv.port on one of consul\'s own server ports', () => {
      expect(located(kvLab('{port: 8301}'))).to.deep.equal(['5:12: kv.port 8301 clashes with consul LAN gossip (port 8301) on host "kv"; pick another port']);
    });

    it('refuses an ssh.port on the kv store\'s port, and lets the fallback store share the preferred one\'s', () => {
      const text = kvLab('{type: etcd, fallback: consul, port: 8500}', '');
      expect(parseLab(text, 'lab.yaml').kv.port).to.equal(8500);
      const clash = `name: t\nhosts:\n  - {name: kv, role: kv, ssh: {port: 2380}}\n  - {name: h1}\nkv: {type: etcd}\n`;
      expect(located(clash)).to.deep.equal(['3:38: hosts[0].ssh.port 2380 clashes with etcd peer (port 2380) on host "kv"; pick another port']);
    });

    it('refuses engine.advertisePort on gossip, VXLAN or sshd, on every docker host once', () => {
      for (const [port, use] of [
        [7946, 'overlay gossip'],
        [4789, 'VXLAN'],
        [22, 'sshd'],
      ] as const) {
        expect(located(kvLab('{}', `engine: {advertisePort: ${port}}\n`)), use).to.deep.equal([
          `6:25: engine.advertisePort ${port} clashes with ${use} (port ${port}) on host "h1"; pick another port`,
        ]);
      }
    });

    it('refuses an ssh.port on the swarm port in swarm mode only', () => {
      const lab = (mode: string) => `name: t\nengine: {mode: ${mode}}\nhosts:\n  - {name: kv, role: kv}\n  - {name: h1, ssh: {port: 2377}}\n`;
      expect(located(lab('swarm'))).to.deep.equal(['5:28: hosts[1].ssh.port 2377 clashes with swarm management (port 2377) on host "h1"; pick another port']);
      expect(parseLab(lab('kv'), 'lab.yaml').hosts[1]!.ssh.port).to.equal(2377);
    });
  });

  describe('address ranges', () => {
    it('refuses a public, loopback or multicast lab network', () => {
      for (const [subnet, kind] of [
        ['8.8.8.0/24', 'public'],
        ['127.0.0.0/24', 'loopback'],
        ['224.0.0.0/24', 'multicast'],
        ['172.15.0.0/16', 'public'],
        ['10.0.0.0/7', 'not wholly private'],
      ]) {
        expect(located(`name: t\nengine: {mode: swarm}\nnetwork: {subnet: ${subnet}}\nhosts: [{name: h1}]\n`), subnet).to.deep.equal([
          `3:19: network.subnet ${subnet} is ${kind} address space; use a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10)`,
        ]);
      }
    });

    it('refuses a public overlay subnet, and accepts RFC 6598 shared space', () => {
      const lab = (subnet: string) => `name: t\nengine: {mode: swarm}\nhosts: [{name: h1}]\nnetworks: [{name: n1, subnet: ${subnet}}]\n`;
      expect(located(lab('1.2.3.0/24'))).to.deep.equal([
        '4:31: network "n1": subnet 1.2.3.0/24 is public address space; use a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10)',
      ]);
      expect(parseLab(lab('100.64.1.0/24'), 'lab.yaml').networks[0]!.subnet).to.equal('100.64.1.0/24');
    });

    it('refuses a /31 or /32 lab network: it needs room for the hosts and the switch', () => {
      const lab = (subnet: string, hosts: string) => `name: t\nengine: {mode: swarm}\nnetwork: {subnet: ${subnet}}\nhosts: [${hosts}]\n`;
      expect(located(lab('10.1.1.0/31', '{name: h1, address: 10.1.1.0}, {name: h2, address: 10.1.1.1}'))).to.deep.equal([
        '3:19: network.subnet 10.1.1.0/31 is too small: it needs room for 2 hosts and the switch (3 usable addresses; it has 2)',
      ]);
      expect(located(lab('10.1.1.4/32', '{name: h1, address: 10.1.1.4}'))).to.deep.equal([
        '3:19: network.subnet 10.1.1.4/32 is too small: it needs room for 1 host and the switch (2 usable addresses; it has 1)',
      ]);
      expect(located(lab('10.1.1.0/30', '{name: h1, address: 10.1.1.1}, {name: h2, address: 10.1.1.2}'))).to.deep.equal([
        '3:19: network.subnet 10.1.1.0/30 is too small: it needs room for 2 hosts and the switch (3 usable addresses; it has 2)',
      ]);
      expect(parseLab(lab('10.1.1.0/29', '{name: h1, address: 10.1.1.1}, {name: h2, address: 10.1.1.2}'), 'lab.yaml').hosts).to.have.lengthOf(2);
    });

    it('refuses an overlay too small for its containers and the gateway', () => {
      const text = labText`
        name: t
        engine: {mode: swarm}
        hosts: [{name: h1}]
        networks: [{name: n1, subnet: 10.0.1.0/30}]
        containers:
          - {name: c1, host: h1, networks: [n1]}
          - {name: c2, host: h1, networks: [n1]}
      `;
      expect(located(text)).to.deep.equal(['4:31: network "n1": subnet 10.0.1.0/30 is too small: it needs room for 2 containers and the gateway (3 usable addresses; it has 2)']);
    });
  });

  describe('the CLI', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'overlab-hostile-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('exits 65 with the exact messages for an injected ssh.user and ssh.address, and runs nothing', function () {
      this.timeout(60_000);
      writeFileSync(join(dir, 'lab.yaml'), sshLab("{user: '-oProxyCommand=touch M;#', address: '$(touch M)'}"));
      const bin = new URL('../../bin/overlab.js', import.meta.url).pathname;
      const r = spawnSync(process.execPath, [bin, 'validate', '--lab', 'lab.yaml'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
      expect(r.status).to.equal(65);
      expect(r.stderr.split('\n')).to.deep.equal([
        `${join(dir, 'lab.yaml')}:7:17: hosts[0].ssh.user "-oProxyCommand=touch M;#" ${USER_RULE}`,
        `${join(dir, 'lab.yaml')}:7:54: hosts[0].ssh.address "$(touch M)" ${ADDRESS_RULE}`,
        '2 problems',
        '',
      ]);
      expect(existsSync(join(dir, 'M'))).to.equal(false);
    });
  });

  describe('exit code', () => {
    it('is the lab-invalid one, 65', () => {
      try {
        parseLab(sshLab("{user: '$(touch x)'}"), 'lab.yaml');
        expect.fail('expected a LabFileError');
      } catch (e) {
        expect(e).to.be.instanceOf(LabFileError);
        expect((e as LabFileError).exitCode).to.equal(65);
      }
    });
  });
});
