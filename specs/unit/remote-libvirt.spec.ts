// A server's libvirt (--libvirt qemu+ssh://...), its pure parts: the URI checked, the ssh
// command every connection goes through (run for real, with a stand-in ssh that prints its
// arguments), the URI and proxy built from it, the Vagrantfile, and what a failure says.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { expect } from 'chai';
import fc from 'fast-check';
import { UsageError } from '../../harness/errors.ts';
import { loadLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { parseLibvirtDriver, parseLibvirtMode, providerImpliedBy } from '../../harness/providers/index.ts';
import { localLibvirtPlan } from '../../harness/providers/vagrant/libvirt-settings.ts';
import { localBoxName } from '../../harness/providers/vagrant/libvirt-box.ts';
import {
  bootVolumeNames,
  connectionUri,
  describeServerUpload,
  parseRemoteLibvirtUri,
  proxyCommand,
  remoteFiles,
  remoteLibvirtSettings,
  serverProblem,
  serverSshScript,
} from '../../harness/providers/vagrant/remote-libvirt-settings.ts';
import { renderVagrantfile } from '../../harness/render/vagrantfile.ts';
import { libvirtWhere } from '../../harness/lifecycle/status.ts';
import type { LabState } from '../../harness/state/store.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

function refusal(uri: string): string {
  try {
    parseRemoteLibvirtUri(uri);
  } catch (e) {
    expect(e).to.be.instanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`${uri} was taken`);
}

describe('a server\'s libvirt (--libvirt qemu+ssh://...)', () => {
  describe('the URI', () => {
    it('takes a server, a user, a port and a key file', () => {
      expect(parseRemoteLibvirtUri('qemu+ssh://kvm-box/system')).to.deep.equal({ uri: 'qemu+ssh://kvm-box/system', server: 'kvm-box' });
      expect(parseRemoteLibvirtUri('qemu+ssh://ops@10.1.2.3:2222/system?keyfile=/home/ops/.ssh/lab_ed25519')).to.deep.equal({
        uri: 'qemu+ssh://ops@10.1.2.3:2222/system?keyfile=/home/ops/.ssh/lab_ed25519',
        server: '10.1.2.3',
        user: 'ops',
        port: 2222,
        keyfile: '/home/ops/.ssh/lab_ed25519',
      });
    });

    it('refuses what would skip the host key check, or replace the ssh overlab runs', () => {
      expect(refusal('qemu+ssh://root@s/system?no_verify=1')).to.match(/no_verify is not taken: it turns the server's host key check off/);
      expect(refusal('qemu+ssh://root@s/system?command=/tmp/evil')).to.match(/command is not taken/);
      expect(refusal('qemu+ssh://root@s/system?proxy=native')).to.match(/proxy is not taken/);
      expect(refusal('qemu+ssh://root@s/system?keyfile=id_rsa')).to.match(/keyfile "id_rsa" is not an absolute path/);
    });

    it('refuses other transports, the session libvirt, passwords and names ssh would read as options', () => {
      expect(refusal('qemu+tcp://s/system')).to.match(/not "local" and not a qemu\+ssh:\/\/ URI/);
      expect(refusal('qemu:///system')).to.match(/not "local"/);
      expect(refusal('qemu+ssh://s/session')).to.match(/the path is "\/session", not \/system/);
      expect(refusal('qemu+ssh://u:pw@s/system')).to.match(/a password in the URI/);
      expect(refusal('qemu+ssh://-oProxyCommand=x/system')).to.match(/is not a server name/);
      expect(refusal('qemu+ssh://[::1]/system')).to.match(/for IPv6, name it in ~\/.ssh\/config/);
    });

    it('either parses to words ssh takes as they are, or is refused as a usage error', () => {
      const part = fc.stringMatching(/^[A-Za-z0-9@:/?=&%._+~ -]{0,30}$/);
      fc.assert(
        fc.property(part, part, (a, b) => {
          const uri = `qemu+ssh://${a}/system${b}`;
          let t;
          try {
            t = parseRemoteLibvirtUri(uri);
          } catch (e) {
            expect(e).to.be.instanceOf(UsageError);
            return;
          }
          expect(t.server).to.match(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
          if (t.user !== undefined) expect(t.user).to.match(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/);
          if (t.keyfile !== undefined) expect(t.keyfile).to.match(/^\/[A-Za-z0-9/._+-]*$/);
          if (t.port !== undefined) expect(t.port).to.be.within(1, 65535);
        }),
      );
    });

    it('is what --libvirt takes besides local, and implies the vagrant provider', () => {
      expect(parseLibvirtMode('qemu+ssh://root@s/system')).to.equal('qemu+ssh://root@s/system');
      expect(() => parseLibvirtMode('qemu+ssh://root@s/system?no_verify=1')).to.throw(UsageError);
      expect(() => parseLibvirtMode('remote')).to.throw(UsageError, /not "local" and not a qemu\+ssh/);
      expect(providerImpliedBy({ libvirt: 'qemu+ssh://root@s/system' })).to.equal('vagrant');
      expect(() => providerImpliedBy({ libvirt: 'qemu+ssh://root@s/system' }, 'netns')).to.throw(UsageError, /needs --provider vagrant/);
      expect(parseLibvirtDriver('qemu')).to.equal('qemu');
      expect(() => parseLibvirtDriver('xen')).to.throw(UsageError, /kvm or qemu/);
    });
  });

  describe('the ssh command every connection to the server runs', () => {
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'overlab-remote-libvirt-'));
      writeFileSync(join(dir, 'ssh'), '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n', { mode: 0o755 });
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const run = async (script: string, args: string[]) => {
      const file = join(dir, 'libvirt-ssh');
      writeFileSync(file, script);
      chmodSync(file, 0o700);
      const r = await execa(file, args, { env: { PATH: `${dir}:/usr/bin:/bin` } });
      return r.stdout.split('\n');
    };

    it('checks the server\'s host key against the lab\'s record and the user\'s known_hosts, and never asks', async () => {
      const target = parseRemoteLibvirtUri('qemu+ssh://ops@kvm-box:2222/system?keyfile=/k/id');
      const argv = await run(serverSshScript(target, { knownHosts: '/lab/server_known_hosts', userKnownHosts: '/root/.ssh/known_hosts' }, false), ['-T', '--', 'kvm-box', 'sh', '-c', 'virt-ssh-helper "qemu:///system"']);
      expect(argv).to.deep.equal([
        '-o', 'BatchMode=yes',
        '-o', 'UserKnownHostsFile=/lab/server_known_hosts /root/.ssh/known_hosts',
        '-o', 'StrictHostKeyChecking=yes',
        '-o', 'ServerAliveInterval=15',
        '-p', '2222', '-l', 'ops', '-i', '/k/id', '-o', 'IdentitiesOnly=yes',
        '-T', '--', 'kvm-box', 'sh', '-c', 'virt-ssh-helper "qemu:///system"',
      ]);
    });

    it('records a first key in the lab\'s record only with --accept-new-host-keys (the first file is where ssh adds it)', async () => {
      const target = parseRemoteLibvirtUri('qemu+ssh://kvm-box/system');
      const argv = await run(serverSshScript(target, { knownHosts: '/lab/server_known_hosts', userKnownHosts: '/u/known_hosts' }, true), ['kvm-box', 'true']);
      expect(argv).to.include('StrictHostKeyChecking=accept-new');
      expect(argv).to.include('UserKnownHostsFile=/lab/server_known_hosts /u/known_hosts');
      expect(argv.slice(-2)).to.deep.equal(['kvm-box', 'true']);
    });

    it('is what libvirt connects with and Vagrant proxies through, the port in the command alone', () => {
      const target = parseRemoteLibvirtUri('qemu+ssh://ops@kvm-box:2222/system');
      const files = remoteFiles('/var/lib/overlab/demo');
      expect(files).to.deep.equal({ ssh: '/var/lib/overlab/demo/libvirt-ssh', knownHosts: '/var/lib/overlab/demo/server_known_hosts' });
      expect(connectionUri(target, files.ssh)).to.equal('qemu+ssh://kvm-box/system?command=/var/lib/overlab/demo/libvirt-ssh&no_tty=1');
      expect(proxyCommand(target, files.ssh)).to.equal('/var/lib/overlab/demo/libvirt-ssh -W %h:%p kvm-box');
      expect(() => connectionUri(target, '/home/my labs/x/libvirt-ssh')).to.throw(UsageError, /has characters ssh and libvirt would split or escape/);
    });
  });

  describe('the Vagrantfile', () => {
    const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvQ7Ec2Mpl1yFtrn1a9Pfdb3TVzEtmXxuONHMeW2q0m overlab';
    const firstBoot = { publicKey: KEY, privateKeyPath: '/lab/ssh/id_ed25519', guest: 'debian' as const };

    it('connects to the server, boots the uploaded kernel and initrd there, and reaches the machines through it', async () => {
      const plan = planLab(await loadLab(`${root}labs/tutorial.yaml`));
      const names = bootVolumeNames(plan.lab);
      expect(names).to.deep.equal({ kernel: 'ovl.tutorial._vmlinuz', initrd: 'ovl.tutorial._initrd.img' });
      const settings = remoteLibvirtSettings(
        plan.lab,
        { uri: 'qemu+ssh://kvm-box/system?command=/s/libvirt-ssh&no_tty=1', proxyCommand: '/s/libvirt-ssh -W %h:%p kvm-box', kernel: `/var/lib/libvirt/images/${names.kernel}`, initrd: `/var/lib/libvirt/images/${names.initrd}`, driver: 'kvm' },
        firstBoot,
      );
      const text = renderVagrantfile(localLibvirtPlan(plan, 'overlab/debian12-x', false), { libvirt: settings });
      for (const host of plan.hosts) {
        const block = text.slice(text.indexOf(`config.vm.define "${host.name}"`));
        const lv = block.slice(block.indexOf('m.vm.provider "libvirt"'), block.indexOf('\n  end\n'));
        expect(lv).to.include('lv.uri = "qemu+ssh://kvm-box/system?command=/s/libvirt-ssh&no_tty=1"');
        expect(lv).to.include('lv.proxy_command = "/s/libvirt-ssh -W %h:%p kvm-box"');
        expect(lv).to.include('lv.kernel = "/var/lib/libvirt/images/ovl.tutorial._vmlinuz"');
        expect(lv).to.include('lv.initrd = "/var/lib/libvirt/images/ovl.tutorial._initrd.img"');
        expect(lv).to.include('lv.driver = "kvm"');
        // With KVM, the plan's own memory and CPUs (emulation's 768 MiB and one CPU are the local libvirt's).
        expect(lv).to.include(`lv.memory = ${host.memory}`);
        expect(lv).to.include('lv.default_prefix = "ovl.tutorial."');
      }
    });

    it('shows the server\'s preparation in a dry run', () => {
      const lines = describeServerUpload('demo', parseRemoteLibvirtUri('qemu+ssh://root@kvm-box/system'));
      expect(lines[0]).to.match(/^# the VMs on kvm-box's libvirt; every connection through \.overlab\/demo\/libvirt-ssh/);
      expect(lines.slice(1)).to.deep.equal([
        "virsh -c 'qemu+ssh://kvm-box/system?command=.overlab/demo/libvirt-ssh&no_tty=1' vol-create-as default ovl.demo._vmlinuz SIZE --format raw",
        "virsh -c 'qemu+ssh://kvm-box/system?command=.overlab/demo/libvirt-ssh&no_tty=1' vol-upload --pool default ovl.demo._vmlinuz BOX_FOLDER/vmlinuz",
        "virsh -c 'qemu+ssh://kvm-box/system?command=.overlab/demo/libvirt-ssh&no_tty=1' vol-create-as default ovl.demo._initrd.img SIZE --format raw",
        "virsh -c 'qemu+ssh://kvm-box/system?command=.overlab/demo/libvirt-ssh&no_tty=1' vol-upload --pool default ovl.demo._initrd.img BOX_FOLDER/initrd.img",
      ]);
    });
  });

  it('names the local box as scripts/build-box.sh does, without running bash (a laptop may have no sha256sum)', async () => {
    const r = await execa('bash', [`${root}scripts/build-box.sh`, '--name']);
    expect(localBoxName()).to.equal(r.stdout.trim()).and.match(/^overlab\/debian12-[0-9a-f]{12}$/);
  });

  it('is where status says the VMs are, with KVM or emulation', () => {
    const state = (libvirt: unknown) => ({ resources: { libvirt } }) as unknown as LabState;
    expect(libvirtWhere(state({ mode: 'remote', uri: 'qemu+ssh://root@kvm-box/system', driver: 'kvm' }))).to.equal('VMs on the libvirt server qemu+ssh://root@kvm-box/system, KVM');
    expect(libvirtWhere(state({ mode: 'local', namespace: 'ovl.demo._libvirt' }))).to.equal("VMs on a libvirt of the lab's own (namespace ovl.demo._libvirt), QEMU emulation");
    expect(libvirtWhere(state(undefined))).to.equal(undefined);
  });

  describe('what a failure to reach the server says', () => {
    const target = parseRemoteLibvirtUri('qemu+ssh://ops@kvm-box/system');
    it('names an unknown or changed host key, and how to vouch for it', () => {
      const p = serverProblem('error: failed to connect to the hypervisor\nerror: Cannot recv data: Host key verification failed.: Connection reset by peer', target);
      expect(p.hostKey).to.equal(true);
      expect(p.hint).to.include('ssh ops@kvm-box').and.include('--accept-new-host-keys').and.include('A changed key is never accepted');
    });
    it('names a refused login, a server without libvirtd, and anything else', () => {
      expect(serverProblem('ops@kvm-box: Permission denied (publickey).', target).message).to.equal('the libvirt server kvm-box refused the login of ops@kvm-box');
      expect(serverProblem("Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory", target).message).to.equal('no libvirtd answers on kvm-box');
      expect(serverProblem('ssh: connect to host kvm-box port 22: Connection refused', target).message).to.equal('cannot reach the libvirt server kvm-box over SSH');
    });
  });
});
