// Unit tests of the Vagrantfile render and VirtualBox's host-only range rule.
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { formatCidr } from '../../harness/lab/ipv4.ts';
import { loadLab, parseLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import type { Plan } from '../../harness/lab/types.ts';
import fc from 'fast-check';
import { firstBootCmdLine, netmaskOf, renderVagrantfile, rubyString } from '../../harness/render/vagrantfile.ts';
import { boxVolumes, daemonArgv, libvirtNamespace, localLibvirtPlan, localLibvirtSettings, proxiedEndpoint } from '../../harness/providers/vagrant/local-libvirt.ts';
import { inNamespace } from '../../harness/system/namespaces.ts';
import { allowedRanges, virtualboxRangeWarnings } from '../../harness/render/virtualbox.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

async function shippedPlan(file: string): Promise<Plan> {
  return planLab(await loadLab(`${root}${file}`));
}

function planOf(yaml: string): Plan {
  return planLab(parseLab(yaml, 'inline.yaml'));
}

/** The body lines of each `config.vm.define` block, by machine name, in order. */
function defines(text: string): Map<string, string[]> {
  const blocks = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    const start = /^ {2}config\.vm\.define "([^"]+)" do \|m\|$/.exec(line);
    if (start) blocks.set(start[1]!, (current = []));
    else if (line === '  end') current = undefined;
    else current?.push(line.trim());
  }
  return blocks;
}

/** The assignments inside one provider block of a define body. */
function providerBlock(body: string[], provider: string): string[] {
  const start = body.indexOf(`m.vm.provider "${provider}" do |${provider === 'virtualbox' ? 'vb' : 'lv'}|`);
  expect(start, `provider "${provider}" block`).to.be.greaterThan(-1);
  return body.slice(start + 1, body.indexOf('end', start));
}

const WIDE = `
name: wide
network:
  subnet: 10.20.0.0/16
hosts:
  - name: a
    cpus: 2
    memory: 2048
  - name: b
    cpus: 3
    memory: 768
engine:
  mode: swarm
`;


/** The modules the lab VMs do not load, as their kernel command line says it (written out: a change to the list shows here). */
const NOT_LOADED = 'modprobe.blacklist=kvm,kvm_amd,kvm_intel,irqbypass,aesni_intel,crypto_simd,cryptd,ghash_clmulni_intel,sha1_ssse3,sha256_ssse3,sha512_ssse3,crc32_pclmul,serio_raw,evdev,button,qemu_fw_cfg,ata_piix,ata_generic,pcspkr,floppy,psmouse,i2c_piix4,joydev';
describe('renderVagrantfile', () => {
  let tutorial: Plan;
  let tutorialText: string;
  before(async () => {
    tutorial = await shippedPlan('labs/tutorial.yaml');
    tutorialText = renderVagrantfile(tutorial, { source: 'labs/tutorial.yaml' });
  });

  it('defines exactly one machine per plan host, in plan order', () => {
    expect([...defines(tutorialText).keys()]).to.deep.equal(tutorial.hosts.map((h) => h.name));
    expect(tutorialText.match(/config\.vm\.define /g)).to.have.length(tutorial.hosts.length);
  });

  it('does so for every shipped lab', async () => {
    const files = (await readdir(`${root}labs`)).filter((f) => f.endsWith('.yaml'));
    expect(files.length).to.be.greaterThan(0);
    for (const file of files) {
      const plan = await shippedPlan(`labs/${file}`);
      expect([...defines(renderVagrantfile(plan)).keys()], file).to.deep.equal(plan.hosts.map((h) => h.name));
    }
  });

  it('gives every machine its plan hostname, and the hostnames are unique', () => {
    const hostnames = [...defines(tutorialText).values()].map((body) => body.find((l) => l.startsWith('m.vm.hostname = ')));
    expect(hostnames).to.deep.equal(tutorial.hosts.map((h) => `m.vm.hostname = "${h.hostname}"`));
    expect(new Set(hostnames).size).to.equal(hostnames.length);
  });

  it('puts each machine on the private network at its plan address, with the default netmask for a /24', () => {
    for (const [name, body] of defines(tutorialText)) {
      const host = tutorial.hosts.find((h) => h.name === name)!;
      expect(body.filter((l) => l.startsWith('m.vm.network '))).to.deep.equal([`m.vm.network "private_network", ip: "${host.address}"`]);
    }
    expect(tutorialText).not.to.include('netmask');
  });

  it('adds the netmask of the plan subnet when it is not a /24', () => {
    const plan = planOf(WIDE);
    const networks = [...defines(renderVagrantfile(plan)).values()].map((body) => body.find((l) => l.startsWith('m.vm.network ')));
    expect(networks).to.deep.equal(plan.hosts.map((h) => `m.vm.network "private_network", ip: "${h.address}", netmask: "255.255.0.0"`));
  });

  it('computes netmasks from prefix lengths', () => {
    expect([0, 8, 16, 21, 24, 30, 32].map(netmaskOf)).to.deep.equal([
      '0.0.0.0', '255.0.0.0', '255.255.0.0', '255.255.248.0', '255.255.255.0', '255.255.255.252', '255.255.255.255',
    ]);
  });

  it('sets the box, and cpus and memory in both the virtualbox and libvirt blocks', () => {
    const plan = planOf(WIDE);
    const blocks = defines(renderVagrantfile(plan));
    for (const host of plan.hosts) {
      const body = blocks.get(host.name)!;
      expect(body).to.include(`m.vm.box = "${host.box}"`);
      expect(providerBlock(body, 'virtualbox')).to.deep.equal([
        `vb.name = "wide-${host.name}"`,
        `vb.cpus = ${host.cpus}`,
        `vb.memory = ${host.memory}`,
      ]);
      expect(providerBlock(body, 'libvirt')).to.deep.equal([`lv.cpus = ${host.cpus}`, `lv.memory = ${host.memory}`]);
    }
    expect(blocks.get('a')).to.include('vb.cpus = 2').and.to.include('lv.memory = 2048');
    expect(blocks.get('b')).to.include('lv.cpus = 3').and.to.include('vb.memory = 768');
  });

  it('disables the shared folder and has no provisioners', () => {
    expect(tutorialText).to.include('\n  config.vm.synced_folder ".", "/vagrant", disabled: true\n');
    expect(tutorialText).not.to.match(/\.provision\b/);
  });

  it('says in its header where it came from and how to regenerate it', () => {
    const header = tutorialText.split('\n').slice(0, 2);
    expect(header[0]).to.match(/^# Generated by overlab from labs\/tutorial\.yaml\b/);
    expect(header[1]).to.equal('# Regenerate with: overlab render --lab labs/tutorial.yaml');
    expect(renderVagrantfile(planOf(WIDE))).to.match(/^# Generated by overlab from inline\.yaml\b/);
    expect(renderVagrantfile({ ...tutorial, file: 'a\nb' }).split('\n')[1]).to.equal('# Regenerate with: overlab render --lab a b');
  });

  it('is one Vagrant.configure block, deterministic, two-space indented, ending in a newline', () => {
    expect(tutorialText).to.include('\nVagrant.configure("2") do |config|\n');
    expect(tutorialText.endsWith('\nend\n')).to.equal(true);
    expect(renderVagrantfile(tutorial, { source: 'labs/tutorial.yaml' })).to.equal(tutorialText);
    for (const line of tutorialText.split('\n')) {
      expect(line, JSON.stringify(line)).not.to.match(/\t|\s$/);
      expect((/^ */.exec(line)![0].length) % 2, JSON.stringify(line)).to.equal(0);
    }
  });

  it('escapes Ruby string literals', () => {
    expect(rubyString('plain/box')).to.equal('"plain/box"');
    expect(rubyString('say "hi"')).to.equal('"say \\"hi\\""');
    expect(rubyString('back\\slash')).to.equal('"back\\\\slash"');
    expect(rubyString('#{`rm -rf /`}')).to.equal('"\\#{`rm -rf /`}"');
    expect(rubyString('a\nb\tc\rd')).to.equal('"a\\nb\\tc\\rd"');
    expect(rubyString('bell\x07')).to.equal('"bell\\u{7}"');
  });

  it('escapes every value it writes', () => {
    const host = tutorial.hosts[0]!;
    const plan: Plan = { ...tutorial, lab: 'l"ab', hosts: [{ ...host, box: 'evil"#{box}\\' }] };
    const text = renderVagrantfile(plan);
    expect(text).to.include('m.vm.box = "evil\\"\\#{box}\\\\"\n');
    expect(text).to.include(`vb.name = "l\\"ab-${host.name}"\n`);
  });

  it('matches the root Vagrantfile (regenerate it with npx tsx scripts/render-root-vagrantfile.ts)', async () => {
    const onDisk = await readFile(`${root}Vagrantfile`, 'utf8');
    expect(onDisk).to.equal(tutorialText);
  });
});

describe('a lab-owned libvirt (--libvirt local)', () => {
  const BOX = 'overlab/debian12-0123456789ab';
  let tutorial: Plan;
  let local: Plan;
  let blocks: Map<string, string[]>;
  before(async () => {
    tutorial = await shippedPlan('labs/tutorial.yaml');
    local = localLibvirtPlan(tutorial, BOX);
    blocks = defines(renderVagrantfile(local, { libvirt: localLibvirtSettings(tutorial.lab) }));
  });

  it('puts every host on the local box, with the memory and CPUs that boot under emulation', () => {
    expect(local.hosts.map((h) => [h.name, h.box, h.memory, h.cpus])).to.deep.equal(tutorial.hosts.map((h) => [h.name, BOX, 768, 1]));
  });

  it('uses the engine the box carries, and changes nothing else of the plan', () => {
    expect(local.engine).to.deep.equal({ ...tutorial.engine, install: 'preinstalled' });
    const { hosts: _a, engine: _b, ...rest } = local;
    const { hosts: _c, engine: _d, ...before } = tutorial;
    expect(rest).to.deep.equal(before);
    expect(tutorial.hosts[0]!.box, 'the plan given is not changed').to.equal('ubuntu/focal64');
  });

  it("names domains, the management network and the private network with the lab's prefix", () => {
    for (const host of local.hosts) {
      const lv = providerBlock(blocks.get(host.name)!, 'libvirt');
      expect(lv).to.deep.equal([
        'lv.cpus = 1',
        'lv.memory = 768',
        'lv.default_prefix = "ovl.tutorial."',
        'lv.management_network_name = "ovl.tutorial._mgmt"',
        'lv.management_network_address = "192.168.121.0/24"',
        'lv.driver = "qemu"',
        `lv.cmd_line = "root=/dev/vda rw console=ttyS0 net.ifnames=0 apparmor=0 ${NOT_LOADED}"`,
        'lv.graphics_type = "none"',
        'lv.video_type = "none"',
        'lv.disk_driver :cache => "unsafe"',
      ]);
      expect(blocks.get(host.name)!.filter((l) => l.startsWith('m.vm.boot_timeout'))).to.deep.equal(['m.vm.boot_timeout = 1200']);
      expect(blocks.get(host.name)!.filter((l) => l.startsWith('m.vm.network '))).to.deep.equal([
        `m.vm.network "private_network", ip: "${host.address}", libvirt__network_name: "ovl.tutorial._net", libvirt__forward_mode: "none"`,
      ]);
    }
  });

  it('leaves the Vagrantfile of other labs as it was', () => {
    expect(renderVagrantfile(tutorial)).not.to.match(/default_prefix|libvirt__|lv\.driver|boot_timeout/);
  });

  describe('with the box configuring itself at boot (the lab key on the kernel command line)', () => {
    const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvQ7Ec2Mpl1yFtrn1a9Pfdb3TVzEtmXxuONHMeW2q0m overlab-tutorial';
    const firstBoot = { publicKey: KEY, privateKeyPath: '/lab/state/ssh/id_ed25519', guest: 'debian' as const };
    let fb: Map<string, string[]>;
    before(() => {
      fb = defines(renderVagrantfile(local, { libvirt: localLibvirtSettings(tutorial.lab, firstBoot) }));
    });

    it('gives each machine its hostname, its lab address with the prefix and the key, after the box\'s own words', () => {
      for (const host of local.hosts) {
        const lv = providerBlock(fb.get(host.name)!, 'libvirt');
        expect(lv.filter((l) => l.startsWith('lv.cmd_line'))).to.deep.equal([
          `lv.cmd_line = "root=/dev/vda rw console=ttyS0 net.ifnames=0 apparmor=0 ${NOT_LOADED} overlab.hostname=${host.hostname} overlab.eth1=${host.address}/24 overlab.key=ssh-ed25519:AAAAC3NzaC1lZDI1NTE5AAAAIOvQ7Ec2Mpl1yFtrn1a9Pfdb3TVzEtmXxuONHMeW2q0m"`,
        ]);
      }
    });

    it('leaves Vagrant nothing to do over SSH: no guest detection, no key insertion, no hostname, no network configuration', () => {
      for (const host of local.hosts) {
        const body = fb.get(host.name)!;
        expect(body.filter((l) => /^m\.(ssh|vm\.(guest|hostname|network))/.test(l))).to.deep.equal([
          'm.vm.guest = :debian',
          'm.ssh.insert_key = false',
          'm.ssh.private_key_path = "/lab/state/ssh/id_ed25519"',
          `m.vm.network "private_network", ip: "${host.address}", auto_config: false, libvirt__network_name: "ovl.tutorial._net", libvirt__forward_mode: "none"`,
        ]);
      }
    });

    it('refuses a value that would split or quote the command line', () => {
      const host = { hostname: 'mhs-demo0', address: '172.28.128.6' };
      expect(firstBootCmdLine('b', host, 24, KEY)).to.equal('b overlab.hostname=mhs-demo0 overlab.eth1=172.28.128.6/24 overlab.key=ssh-ed25519:AAAAC3NzaC1lZDI1NTE5AAAAIOvQ7Ec2Mpl1yFtrn1a9Pfdb3TVzEtmXxuONHMeW2q0m');
      fc.assert(
        fc.property(fc.string({ minLength: 1 }).filter((v) => /[^A-Za-z0-9+/=:._-]/.test(v)), (bad) => {
          expect(() => firstBootCmdLine('b', { ...host, hostname: bad }, 24, KEY)).to.throw('cannot be a kernel command line word');
        }),
      );
      expect(() => firstBootCmdLine('b', host, 24, 'not-a-key')).to.throw('not an OpenSSH public key');
    });
  });

  it('runs inside the namespace with nsenter, and reaches SSH through busybox nc there', () => {
    expect(libvirtNamespace('tutorial')).to.equal('ovl.tutorial._libvirt');
    expect(inNamespace('ovl.t._libvirt', ['vagrant', 'up'])).to.deep.equal(['nsenter', '--net=/run/netns/ovl.t._libvirt', '--', 'vagrant', 'up']);
    const endpoint = { host: '192.168.121.14', port: 22, username: 'vagrant', privateKeyPath: '/k' };
    expect(proxiedEndpoint('ovl.t._libvirt', endpoint)).to.deep.equal({
      ...endpoint,
      proxy: ['nsenter', '--net=/run/netns/ovl.t._libvirt', '--', 'busybox', 'nc', '192.168.121.14', '22'],
    });
  });

  it('starts virtlogd in the namespace, and libvirtd there with the lab qemu.conf bound over the machine\'s', () => {
    expect(daemonArgv('ovl.t._libvirt', 'virtlogd', '/s/qemu.conf')).to.deep.equal(['nsenter', '--net=/run/netns/ovl.t._libvirt', '--', 'virtlogd']);
    const libvirtd = daemonArgv('ovl.t._libvirt', 'libvirtd', '/s/qemu.conf');
    expect(libvirtd.slice(0, 8)).to.deep.equal(['nsenter', '--net=/run/netns/ovl.t._libvirt', '--', 'unshare', '--mount', '--propagation', 'private', '--']);
    expect(libvirtd.slice(-2)).to.deep.equal(['libvirtd', '/s/qemu.conf']);
    expect(libvirtd.at(-3)).to.match(/mount --bind "\$1" \/etc\/libvirt\/qemu\.conf && exec libvirtd$/);
  });

  it("finds the box's volumes by the names vagrant-libvirt gives them, and no other box's", () => {
    const names = [
      'overlab-VAGRANTSLASH-debian12-0123456789ab_vagrant_box_image_0_1795458099_box.img',
      'overlab-VAGRANTSLASH-debian12-0123456789ab_vagrant_box_image_0_box.img',
      'overlab-VAGRANTSLASH-debian12-ffffffffffff_vagrant_box_image_0_box.img',
      'ovl.tutorial.mhs-demo0.img',
    ];
    expect(boxVolumes(BOX, names)).to.deep.equal(names.slice(0, 2));
  });
});

describe('virtualboxRangeWarnings', () => {
  const inDefaultRange = `
name: hostonly
network:
  subnet: 192.168.56.0/21
hosts:
  - name: low
    address: 192.168.56.10
  - name: high
    address: 192.168.63.254
engine:
  mode: swarm
`;

  it('accepts addresses inside 192.168.56.0/21 when there is no networks.conf', () => {
    expect(virtualboxRangeWarnings(planOf(inDefaultRange), undefined)).to.deep.equal([]);
  });

  it("warns about each of the tutorial's 172.28.128.x hosts, ending with the line to add", async () => {
    const plan = await shippedPlan('labs/tutorial.yaml');
    const warnings = virtualboxRangeWarnings(plan, undefined);
    expect(warnings).to.have.length(plan.hosts.length);
    plan.hosts.forEach((h, i) => {
      expect(warnings[i]).to.include(`"${h.name}"`).and.to.include(h.address);
      expect(warnings[i]).to.match(/\/etc\/vbox\/networks\.conf: \* 172\.28\.128\.0\/24$/);
    });
  });

  it('warns only about the hosts outside the allowed ranges', async () => {
    const plan = await shippedPlan('labs/tutorial.yaml');
    const conf = '* 172.28.128.6/32 172.28.128.7/32\n';
    const warnings = virtualboxRangeWarnings(plan, conf);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('"mh-keystore"').and.to.include('172.28.128.5');
  });

  it('accepts what networks.conf allows', async () => {
    const plan = await shippedPlan('labs/tutorial.yaml');
    expect(virtualboxRangeWarnings(plan, '* 172.16.0.0/12\n')).to.deep.equal([]);
    expect(virtualboxRangeWarnings(plan, '* 10.0.0.0/8 192.168.0.0/16\n* 172.16.0.0/12\n')).to.deep.equal([]);
    expect(virtualboxRangeWarnings(plan, '* 0.0.0.0/0 ::/0\n')).to.deep.equal([]);
  });

  it('ignores comments and lines not starting with *', async () => {
    const plan = await shippedPlan('labs/tutorial.yaml');
    expect(virtualboxRangeWarnings(plan, '# * 172.16.0.0/12\n172.16.0.0/12\n')).to.have.length(3);
    expect(virtualboxRangeWarnings(plan, '# allow the labs\n* 172.28.0.0/16 # overlab\n')).to.deep.equal([]);
    expect(allowedRanges('  # * 10.0.0.0/8\n\n* 10.1.2.3/8 ::/0 junk\n').map(formatCidr)).to.deep.equal(['10.0.0.0/8']);
  });

  it('no longer allows 192.168.56.0/21 once networks.conf exists without it, as VirtualBox does', () => {
    expect(virtualboxRangeWarnings(planOf(inDefaultRange), '* 10.0.0.0/8\n')).to.have.length(2);
    expect(virtualboxRangeWarnings(planOf(inDefaultRange), '')).to.have.length(2);
  });
});
