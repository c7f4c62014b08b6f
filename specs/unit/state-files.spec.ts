// Files overlab reads back are checked before use: a lab's state (pids stopped by down, paths
// removed, the engine tree fault heal starts dockerd from, proxy commands), its recorded plan
// (names that become paths and namespaces, KV command lines, engine bodies and flags), and spec
// and matrix reports (numbers that reach pages). What does not pass is a typed error naming the
// file and its first bad field; every value that reaches a page is escaped.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { LabStateError, UsageError } from '../../harness/errors.ts';
import { ALIAS as LAB_ALIAS, BOX as LAB_BOX, hostAddressProblem, IMAGE_REFERENCE, keyPathProblem, sshUserProblem } from '../../harness/lab/grammar.ts';
import { parseIpv4 } from '../../harness/lab/ipv4.ts';
import { loadLab, parseLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { labSchema } from '../../harness/lab/schema.ts';
import { DEFAULT_IMAGE, type Plan } from '../../harness/lab/types.ts';
import { copyPlans } from '../../harness/lifecycle/copies.ts';
import { recordedLabs } from '../../harness/lifecycle/lab.ts';
import { escapeHtml, inlineSvg } from '../../harness/render/html.ts';
import { renderMatrixPage } from '../../harness/render/matrix.ts';
import { renderRoomPage, type RoomEntry } from '../../harness/render/room.ts';
import { readReport, renderJunit, writeReports, type SpecReport } from '../../harness/report/index.ts';
import { cellCounts, parseMatrixReport, type MatrixCellResult, type MatrixReport } from '../../harness/report/matrix.ts';
import { checkPlan } from '../../harness/state/check-plan.ts';
import { engineCacheOf } from '../../harness/state/check-state.ts';
import { ReportFileError, StateFileError } from '../../harness/state/record-file.ts';
import { ALIAS, BOX, CONTAINER_NAME, ENGINE_FLAG, FINGERPRINT, IMAGE, IPV4, isHostAddress, isKeyPath, LAB_NAME, NAME, SHA256_HEX, SSH_USER, SUITE } from '../../harness/state/rules.ts';
import { StateStore } from '../../harness/state/store.ts';
import { engineCacheRoot } from '../../harness/system/engines.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SHIPPED = ['tutorial', 'docker-machine', 'isolation', 'services', 'swarm'];
const shipped = (name: string) => loadLab(join(ROOT, 'labs', `${name}.yaml`));
const HOSTILE = '<script>alert(1)</script>';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The error `fn` throws (failing when it throws none). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  return expect.fail('expected an error') as never;
}

describe('state files read back', () => {
  let root = '';
  let stateDir = '';
  let cache = '';
  const env = () => ({ XDG_CACHE_HOME: join(root, 'cache') });
  const store = () => new StateStore(stateDir, { env: env(), uid: 1000 });
  const stateFile = () => join(stateDir, 'state.json');

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'overlab-state-files-'));
    stateDir = join(root, '.overlab', 'demo');
    cache = join(root, 'cache', 'overlab', 'engines');
    mkdirSync(stateDir, { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** A netns lab's state as up and `fault latency` write it. */
  const netnsState = (): Json => ({
    version: 1,
    lab: 'demo',
    provider: 'netns',
    mode: 'kv',
    file: '/home/u/labs/demo.yaml',
    phase: 'up',
    createdAt: '2026-12-04T10:00:00.000Z',
    updatedAt: '2026-12-04T10:01:00.000Z',
    kv: { type: 'consul', clusterStore: 'consul://172.28.128.5:8500' },
    resources: {
      switch: 'ovl.demo._switch',
      runtimeDir: '/run/overlab/demo',
      switchAddress: '172.28.128.254',
      sshDir: join(stateDir, 'ssh'),
      hostKey: `SHA256:${'A'.repeat(43)}`,
      engineTree: { bin: join(cache, '20.10.24', 'docker'), url: 'https://download.docker.com/linux/static/stable/x86_64/docker-20.10.24.tgz', sha256: 'ab', version: 'Docker version 20.10.24', origin: { kind: 'static', url: 'https://example/docker-20.10.24.tgz', sha256: 'ab' } },
      engineVersions: { d0: { engine: '20.10.24', api: '1.41', containerd: 'v1.6.20' } },
    },
    hosts: {
      d0: {
        name: 'd0',
        address: '172.28.128.6',
        role: 'docker',
        resources: {
          namespace: 'ovl.demo.d0',
          runtimeDir: '/run/overlab/demo/d0',
          holderPid: 4242,
          holderStart: 1234,
          services: { dockerd: { pid: 4343, start: 1240, argv: ['dockerd', '--debug'], log: join(stateDir, 'logs', 'd0.dockerd.log') } },
        },
      },
    },
    faults: [{ kind: 'latency', host: 'd0', ms: 100, since: '2026-12-04T10:02:00.000Z', qdisc: { iface: 'eth1', shown: 'qdisc noqueue 0: root refcnt 2' } }],
  });

  /** An ssh lab's host record: how to reach the machine and what overlab changed on it. */
  const sshState = (): Json => ({
    ...netnsState(),
    provider: 'ssh',
    resources: { kind: 'ssh-machines', engineTree: netnsState().resources.engineTree },
    hosts: {
      d0: {
        name: 'd0',
        address: '172.28.128.6',
        role: 'docker',
        resources: {
          ssh: { host: '192.168.1.20', port: 22, username: 'root', privateKeyPath: '/home/u/.ssh/id_ed25519', hostKeys: { knownHosts: ['/home/u/.ssh/known_hosts'], recordIn: join(stateDir, 'known_hosts'), vouchedBy: 'user' } },
          units: ['overlab-kv.service'],
          dropIn: '/etc/systemd/system/docker.service.d/overlab.conf',
          folders: [join(cache, '20.10.24'), join(root, 'cache', 'overlab')],
        },
      },
    },
  });

  const write = (state: Json) => writeFileSync(stateFile(), JSON.stringify(state));

  it('reads what overlab writes: netns, ssh and vagrant (local libvirt) records', () => {
    for (const state of [netnsState(), sshState()]) {
      write(state);
      expect(store().read()).to.deep.equal(state);
    }
    const vagrant = {
      ...netnsState(),
      provider: 'vagrant',
      resources: { kind: 'vagrant', vagrantDir: stateDir, hypervisor: 'libvirt', libvirt: { mode: 'local', namespace: 'ovl.demo._libvirt', prefix: 'ovl.demo.', box: 'ubuntu/focal64', pids: { virtlogd: 300, libvirtd: 301 }, starts: { virtlogd: 1, libvirtd: 2 }, boxVolumesBefore: [], createdPool: true } },
      hosts: { d0: { name: 'd0', address: '172.28.128.6', role: 'docker', resources: { machine: 'd0', ssh: { host: '192.168.121.45', port: 22, username: 'vagrant', privateKeyPath: join(stateDir, '.vagrant/machines/d0/libvirt/private_key'), proxy: ['nsenter', '--net=/run/netns/ovl.demo._libvirt', '--', 'busybox', 'nc', '192.168.121.45', '22'], hostKeys: { knownHosts: [], recordIn: join(stateDir, 'known_hosts'), vouchedBy: 'overlab' } } } } },
    };
    write(vagrant);
    expect(store().read()).to.deep.equal(vagrant);
    // VMs on a server's libvirt: its URI, whose ssh command down runs from the lab's folder.
    const server = { ...vagrant, resources: { ...vagrant.resources, libvirt: { mode: 'remote', uri: 'qemu+ssh://root@kvm-box/system?keyfile=/root/.ssh/lab', prefix: 'ovl.demo.', box: 'overlab/debian12-x', driver: 'kvm', boxVolumesBefore: [] } } };
    write(server);
    expect(store().read()).to.deep.equal(server);
  });

  it('keeps older state files readable: no mode (taken as kv), no start times, no host key policy', () => {
    const old = netnsState();
    delete old.mode;
    delete old.hosts.d0.resources.holderStart;
    delete old.hosts.d0.resources.services.dockerd.start;
    old.resources.runtimeDir = '/tmp/overlab/demo'; // where runtime folders were before /run/overlab
    old.hosts.d0.resources.runtimeDir = '/tmp/overlab/demo/d0';
    write(old);
    expect(store().read()!.mode).to.equal('kv');
    const ssh = sshState();
    delete ssh.hosts.d0.resources.ssh.hostKeys;
    write(ssh);
    expect(store().read()!.hosts['d0']!.resources['ssh']).to.not.have.property('hostKeys');
    // The way tests and `sweepLocalLibvirt` write a state: empty times, no hosts.
    write({ version: 1, lab: 'demo', provider: 'vagrant', mode: 'kv', file: '', phase: 'destroying', createdAt: '', updatedAt: '', hosts: {}, resources: {} });
    expect(store().read()!.phase).to.equal('destroying');
  });

  const hostile: [string, (s: Json) => void, string, RegExp][] = [
    ['a holder pid that is a command', (s) => (s.hosts.d0.resources.holderPid = '1; rm -rf /'), '/hosts/d0/resources/holderPid', /is "1; rm -rf \/", not a pid/],
    ['a negative service pid (a process group)', (s) => (s.hosts.d0.resources.services.dockerd.pid = -1), '/hosts/d0/resources/services/dockerd/pid', /is -1, not a pid/],
    ['pid 1 (init)', (s) => (s.hosts.d0.resources.holderPid = 1), '/hosts/d0/resources/holderPid', /is 1, not a pid/],
    ["a server's libvirt URI that turns the host key check off", (s) => (s.resources.libvirt = { mode: 'remote', uri: 'qemu+ssh://root@kvm-box/system?no_verify=1', prefix: 'ovl.demo.', box: '', driver: 'kvm' }), '/resources/libvirt/uri', /not a server's libvirt URI \(.*no_verify is not taken/],
    ["a server's libvirt URI whose ssh runs a command of the state's", (s) => (s.resources.libvirt = { mode: 'remote', uri: 'qemu+ssh://root@kvm-box/system?command=/tmp/x', prefix: 'ovl.demo.', box: '', driver: 'kvm' }), '/resources/libvirt/uri', /command is not taken/],
    ['a libvirt daemon pid that is not whole', (s) => (s.resources.libvirt = { mode: 'local', namespace: 'ovl.demo._libvirt', prefix: 'ovl.demo.', box: '', pids: { libvirtd: 30.5 } }), '/resources/libvirt/pids/libvirtd', /not a pid/],
    ['a service log outside the lab folder', (s) => (s.hosts.d0.resources.services.dockerd.log = '/etc/shadow'), '/hosts/d0/resources/services/dockerd/log', /is "\/etc\/shadow", outside the lab's state folder/],
    ['a runtime folder that climbs out with ..', (s) => (s.resources.runtimeDir = '/run/overlab/demo/../../../etc'), '/resources/runtimeDir', /not an absolute path \(nothing to resolve/],
    ["another lab's runtime folder", (s) => (s.hosts.d0.resources.runtimeDir = '/run/overlab/other/d0'), '/hosts/d0/resources/runtimeDir', /outside the lab's runtime folder \(\/run\/overlab\/demo\)/],
    ["another lab's switch namespace", (s) => (s.resources.switch = 'ovl.other._switch'), '/resources/switch', /not a namespace of lab demo/],
    ['an engine tree outside the engine cache (fault heal runs its dockerd)', (s) => (s.resources.engineTree.bin = '/tmp/evil/docker'), '/resources/engineTree/bin', /not the bin folder of an engine tree in the engine cache/],
    ['a lab name that climbs out of the state root', (s) => (s.lab = '../../etc'), '/lab', /is "..\/..\/etc", not a lab name/],
    ['a host key that is a command', (s) => (s.hosts = { 'd0;reboot': { ...s.hosts.d0, name: 'd0;reboot' } }), '/hosts/d0;reboot', /not a host name/],
    ['a host address that is an option', (s) => (s.hosts.d0.address = '-oProxyCommand=id'), '/hosts/d0/address', /not an IPv4 address/],
    ['a fault delay that is markup', (s) => (s.faults[0].ms = HOSTILE), '/faults/0/ms', /not a finite number/],
    ['a recorded proxy that runs a shell (the ssh provider runs it)', (s) => Object.assign(s, sshState(), { hosts: { d0: { ...sshState().hosts.d0, resources: { ...sshState().hosts.d0.resources, ssh: { ...sshState().hosts.d0.resources.ssh, proxy: ['sh', '-c', 'touch /tmp/x'] } } } } }), '/hosts/d0/resources/ssh/proxy', /not overlab's proxy/],
    ['a host key policy that accepts any new key', (s) => Object.assign(s, sshState(), { hosts: { d0: { ...sshState().hosts.d0, resources: { ...sshState().hosts.d0.resources, ssh: { ...sshState().hosts.d0.resources.ssh, hostKeys: { knownHosts: [], recordIn: join(stateDir, 'known_hosts'), acceptNew: true, vouchedBy: 'user' } } } } } }), '/hosts/d0/resources/ssh/hostKeys/acceptNew', /not false/],
    ['a folder to remove from a machine that is its root (down runs rm -rf)', (s) => Object.assign(s, sshState(), { hosts: { d0: { ...sshState().hosts.d0, resources: { ...sshState().hosts.d0.resources, folders: ['/'] } } } }), '/hosts/d0/resources/folders/0', /not the engine tree's folder/],
    ['a unit to stop that is not overlab\'s', (s) => Object.assign(s, sshState(), { hosts: { d0: { ...sshState().hosts.d0, resources: { ...sshState().hosts.d0.resources, units: ['sshd.service'] } } } }), '/hosts/d0/resources/units/0', /not a unit overlab started/],
  ];
  for (const [what, mutate, pointer, problem] of hostile) {
    it(`refuses ${what}, naming the file and the field`, () => {
      const state = netnsState();
      mutate(state);
      write(state);
      const e = thrown(() => store().read());
      expect(e).to.be.instanceOf(StateFileError).and.instanceOf(LabStateError);
      expect((e as StateFileError).pointer).to.equal(pointer);
      expect((e as StateFileError).file).to.equal(stateFile());
      expect(e.message).to.include(`lab state ${stateFile()} is not as overlab writes it: ${pointer} `);
      expect(e.message).to.match(problem);
      expect((e as StateFileError).hint).to.include('`overlab down --force --lab demo` removes the lab by its name prefix');
    });
  }

  it('refuses a file that is not JSON, and never throws for one that is not there', () => {
    writeFileSync(stateFile(), '{"version": 1,');
    expect(thrown(() => store().read()).message).to.match(/^lab state .*state\.json is not as overlab writes it: the file is not JSON/);
    rmSync(stateFile());
    expect(store().read()).to.equal(undefined);
  });

  it('is never updated from a state it refuses', () => {
    const state = netnsState();
    state.hosts.d0.resources.holderPid = -1;
    write(state);
    expect(() => store().update((s) => (s.phase = 'destroying'))).to.throw(StateFileError);
    expect(JSON.parse(readFileSync(stateFile(), 'utf8')).phase).to.equal('up');
  });

  it('sets a refused state and plan aside for down --force, telling the provider they name', () => {
    const state = netnsState();
    state.hosts.d0.resources.holderPid = '1; rm -rf /';
    write(state);
    writeFileSync(join(stateDir, 'plan.json'), '{"lab": "../../etc"}');
    const aside = store().setAside();
    expect(aside).to.deep.equal({ files: [`${stateFile()}.rejected`, `${join(stateDir, 'plan.json')}.rejected`], provider: 'netns' });
    expect(existsSync(stateFile())).to.equal(false);
    expect(store().read()).to.equal(undefined);
  });

  it('takes over a lock whose holder is not a pid, and names a live holder on one line', () => {
    writeFileSync(join(stateDir, 'lock'), JSON.stringify({ pid: '1; rm -rf /', command: 'up' }));
    const release = store().lock('down');
    release();
    writeFileSync(join(stateDir, 'lock'), JSON.stringify({ pid: process.pid, command: 'up\n\u001b[31mred' }));
    expect(() => store().lock('down')).to.throw(LabStateError, 'the lab is locked by `overlab up\\n\\x1b[31mred`');
  });

  it('lists only labs whose state names their own folder', () => {
    const saved = process.env['OVERLAB_HOME'];
    process.env['OVERLAB_HOME'] = join(root, '.overlab');
    try {
      const other = { ...netnsState(), lab: 'other', resources: {}, hosts: {}, faults: [] };
      write(other); // in the folder of lab demo
      mkdirSync(join(root, '.overlab', 'other'));
      writeFileSync(join(root, '.overlab', 'other', 'state.json'), JSON.stringify(other));
      expect(recordedLabs().map((s) => s.lab)).to.deep.equal(['other']);
    } finally {
      if (saved === undefined) delete process.env['OVERLAB_HOME'];
      else process.env['OVERLAB_HOME'] = saved;
    }
  });

  describe('plans', () => {
    const planFile = () => join(stateDir, 'plan.json');
    const planOf = async (name: string): Promise<Json> => JSON.parse(JSON.stringify(planLab({ ...(await shipped(name)), name: 'demo' })));
    const tutorial = () => planOf('tutorial');

    it('reads the plans overlab writes: every shipped lab, its copies, an ssh lab', async () => {
      const plans: Plan[] = [];
      for (const name of SHIPPED) {
        const lab = await shipped(name);
        plans.push(planLab(lab), ...copyPlans(lab, ['copy-01', 'copy-02'], { ownSubnet: false }), ...copyPlans(lab, ['copy-01', 'copy-02'], { ownSubnet: true }));
      }
      const ssh = parseLab(
        'name: machines\nprovider: ssh\nengine: {mode: swarm, flags: [--mtu=1400, --log-level=debug]}\nhosts:\n  - name: h1\n    address: 172.28.128.5\n    ssh: {address: h1.example.org, user: ci-runner_2, port: 2222, key: ~/.ssh/lab key, hostKey: SHA256:' + 'b'.repeat(43) + '}\n',
        'machines.yaml',
      );
      plans.push(planLab(ssh));
      for (const plan of plans) expect(() => checkPlan(JSON.parse(JSON.stringify(plan)), { lab: plan.lab }), plan.lab).to.not.throw();
      const s = new StateStore(join(root, '.overlab', 'machines'));
      s.writePlan(planLab(ssh));
      expect(await s.readPlanToRun({ lab: 'machines' })).to.deep.equal(JSON.parse(JSON.stringify(planLab(ssh))));
    });

    it('keeps older plans readable: no engine source, suite, sha256 or flags, no services, no specs policy', async () => {
      const plan = await tutorial();
      for (const k of ['source', 'suite', 'sha256', 'flags']) delete plan.engine[k];
      delete plan.services;
      delete plan.specs;
      writeFileSync(planFile(), JSON.stringify(plan));
      expect(store().readPlan({ lab: 'demo' })!.lab).to.equal('demo');
    });

    const hostilePlans: [string, (p: Json) => void, string, RegExp][] = [
      ['a lab name joined into paths (../../etc)', (p) => (p.lab = '../../etc'), '/lab', /is "..\/..\/etc", not a lab name/],
      ["another lab's plan in this lab's folder", (p) => (p.lab = 'other'), '/lab', /is "other", not the lab whose folder it is in \(demo\)/],
      ['a host name that is a command', (p) => (p.hosts[0].name = 'kv; rm -rf /'), '/hosts/0/name', /not a host name/],
      ['a KV store command that is not the planner\'s', (p) => (p.kv.candidates[0].command[0] = 'sh'), '/kv/candidates/0/command/0', /is "sh", not "consul" \(what overlab plans for consul on mh-keystore\)/],
      ['a cluster store of its own (a dockerd flag)', (p) => (p.hosts[1].daemon.clusterStore = 'consul://10.9.9.9:8500'), '/hosts/1/daemon/clusterStore', /not "consul:\/\/172\.28\.128\.5:8500"/],
      ['a network body with options the planner does not give', (p) => (p.networks[0].create.Options = { 'com.docker.network.driver.mtu': '9000' }), '/networks/0/create/Options/com.docker.network.driver.mtu', /a field the body overlab plans for network my-net does not have/],
      ['a container image that is an option', (p) => (p.containers[0].image = '--privileged'), '/containers/0/image', /not an image reference/],
      ['a description with control characters', (p) => (p.description = 'x\u001b]0;owned\u0007'), '/description', /not text/],
    ];
    for (const [what, mutate, pointer, problem] of hostilePlans) {
      it(`refuses ${what}, naming plan.json and the field`, async () => {
        const plan = await tutorial();
        mutate(plan);
        writeFileSync(planFile(), JSON.stringify(plan));
        const e = thrown(() => store().readPlan({ lab: 'demo' }));
        expect(e).to.be.instanceOf(StateFileError);
        expect((e as StateFileError).pointer).to.equal(pointer);
        expect(e.message).to.include(`lab plan ${planFile()} is not as overlab writes it: ${pointer} `);
        expect(e.message).to.match(problem);
      });
    }

    it('refuses a service body with fields the planner does not write (a bind mount of /)', async () => {
      const plan = await planOf('services');
      plan.services[0].create.TaskTemplate.ContainerSpec.Mounts = [{ Type: 'bind', Source: '/', Target: '/host' }];
      writeFileSync(planFile(), JSON.stringify(plan));
      const e = thrown(() => store().readPlan({ lab: 'demo' })) as StateFileError;
      expect(e.pointer).to.equal('/services/0/create/TaskTemplate/ContainerSpec/Mounts');
      expect(e.message).to.include('is a field overlab does not write here');
    });

    it('refuses, before anything runs from the plan, an engine flag the lab file could not give', async () => {
      const plan = await tutorial();
      plan.engine.flags = ['--mtu=1400', '--add-runtime=evil=/tmp/evil'];
      writeFileSync(planFile(), JSON.stringify(plan));
      expect(store().readPlan({ lab: 'demo' })).to.not.equal(undefined); // the shape holds: a flag
      const e = await store().readPlanToRun({ lab: 'demo' }).then(() => expect.fail('should refuse'), (x: unknown) => x as StateFileError);
      expect(e).to.be.instanceOf(StateFileError);
      expect(e.pointer).to.equal('/engine/flags/1');
      expect(e.message).to.match(/\/engine\/flags\/1 is "--add-runtime=evil=\/tmp\/evil", which is refused: --add-runtime would point the root-run engine outside the lab/);
    });
  });

  describe('the rules agree with the lab file\'s', () => {
    const schema = labSchema as Json;
    it('names and patterns are the schema\'s', () => {
      expect(LAB_NAME.source).to.equal(schema.properties.name.pattern);
      expect(NAME.source).to.equal(schema.definitions.name.pattern);
      expect(CONTAINER_NAME.source).to.equal(schema.definitions.containerName.pattern);
      expect(ENGINE_FLAG.source).to.equal(schema.properties.engine.properties.flags.items.pattern);
      expect(SUITE.source).to.equal(schema.properties.engine.properties.suite.pattern);
      expect(SHA256_HEX.source).to.equal(schema.properties.engine.properties.sha256.pattern);
      expect(FINGERPRINT.source).to.equal(schema.definitions.host.properties.ssh.properties.hostKey.pattern);
      expect(BOX.source).to.equal(LAB_BOX.source);
      expect(ALIAS.source).to.equal(LAB_ALIAS.source);
    });

    const words = fc.array(fc.constantFrom('a', 'z', '0', '9', '.', '-', '_', '$', ' ', '/', '~', 'A', '\n', '\u0001', '256', '01', 'é'), { maxLength: 40 }).map((a) => a.join(''));
    it('user names, addresses, key paths and IPv4 addresses as the lab grammar judges them', () => {
      fc.assert(
        fc.property(words, (w) => {
          expect(SSH_USER.test(w), `user ${JSON.stringify(w)}`).to.equal(sshUserProblem(w) === undefined);
          expect(isHostAddress(w), `address ${JSON.stringify(w)}`).to.equal(hostAddressProblem(w) === undefined);
          expect(isKeyPath(w), `key ${JSON.stringify(w)}`).to.equal(keyPathProblem(w) === undefined);
          expect(IPV4.test(w), `ipv4 ${JSON.stringify(w)}`).to.equal(parseIpv4(w) !== undefined);
        }),
        { numRuns: 500 },
      );
      for (const a of ['0.0.0.0', '255.255.255.255', '10.0.0.1', '256.1.1.1', '10.0.0.01', '1.2.3']) expect(IPV4.test(a), a).to.equal(parseIpv4(a) !== undefined);
    });

    it('an image reference the lab takes is an image the plan takes', async () => {
      fc.assert(fc.property(fc.array(fc.constantFrom('a', '0', '.', '_', '-', '/', ':', '@', 'sha256:' + 'a'.repeat(64), 'Z', 'registry.local:5000/'), { minLength: 1, maxLength: 12 }).map((a) => a.join('')), (image) => !IMAGE_REFERENCE.test(image) || IMAGE.test(image)));
      for (const name of SHIPPED) for (const c of planLab(await shipped(name)).containers) expect(IMAGE.test(c.image), c.image).to.equal(true);
      expect(IMAGE.test(DEFAULT_IMAGE)).to.equal(true);
    });

    it("the engine cache is system/engines.ts's for every environment and user", () => {
      const cases: [NodeJS.ProcessEnv, number | undefined][] = [
        [{}, 1000],
        [{}, 0],
        [{ XDG_CACHE_HOME: '/x/cache' }, 1000],
        [{ XDG_CACHE_HOME: '/x/cache' }, 0],
        [{ OVERLAB_ENGINE_CACHE: '/srv/engines' }, 0],
        [{ OVERLAB_ENGINE_CACHE: '/srv/engines', XDG_CACHE_HOME: '/x' }, 1000],
      ];
      for (const [e, uid] of cases) expect(engineCacheOf(e, uid), JSON.stringify([e, uid])).to.equal(resolve(engineCacheRoot(e, uid)));
    });
  });
});

describe('reports read back', () => {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'overlab-reports-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const specReport = (): SpecReport => ({
    lab: 'demo',
    file: 'labs/demo.yaml',
    properties: { provider: 'netns', engine: '20.10.24' },
    startedAt: '2026-12-04T10:00:00.000Z',
    ms: 1500,
    counts: { tests: 2, passed: 1, failed: 1, pending: 0, na: 0 },
    cases: [
      { suite: 'reachability', title: 'c0 reaches c1', state: 'passed', ms: 12, measured: { 'recovery.ms': 40 } },
      { suite: 'dns', title: 'c0 resolves c1', state: 'failed', ms: 5, failure: { kind: 'assertion', message: 'no answer', detail: 'nslookup c1' } },
    ],
  });

  it('reads a report overlab test wrote, and an older one without n/a', () => {
    writeReports(specReport(), dir);
    expect(readReport(dir)).to.deep.equal(specReport());
    const older = specReport() as Json;
    delete older.counts.na;
    writeFileSync(join(dir, 'report.json'), JSON.stringify(older));
    expect(readReport(dir)!.counts).to.not.have.property('na');
  });

  it('refuses a report whose numbers are markup, naming report.json and the field', () => {
    const r = specReport() as Json;
    r.counts.passed = HOSTILE;
    writeFileSync(join(dir, 'report.json'), JSON.stringify(r));
    const e = thrown(() => readReport(dir)) as StateFileError;
    expect(e).to.be.instanceOf(StateFileError);
    expect(e.pointer).to.equal('/counts/passed');
    expect(e.message).to.include(`spec report ${join(dir, 'report.json')} is not as overlab writes it: /counts/passed is "<script>alert(1)</script>", not a whole number from 0`);
    // A number JSON holds but no page can show.
    writeFileSync(join(dir, 'report.json'), JSON.stringify(specReport()).replace('"ms":12', '"ms":1e999'));
    expect((thrown(() => readReport(dir)) as StateFileError).pointer).to.equal('/cases/0/ms');
    writeFileSync(join(dir, 'report.json'), JSON.stringify({ ...specReport(), cases: [{ ...specReport().cases[1], state: '<b>' }] }));
    expect((thrown(() => readReport(dir)) as StateFileError).pointer).to.equal('/cases/0/state');
  });

  const cell = (id: string): MatrixCellResult => ({
    id,
    lab: `mx-${id}`,
    engine: { requested: '20.10.24', source: 'static', version: '20.10.24', origin: 'https://example/docker-20.10.24.tgz' },
    kv: 'etcd',
    mode: 'kv',
    provider: 'netns',
    status: 'failed',
    reason: 'the engine died',
    durations: { totalMs: 1000, upMs: 500, specsMs: 300, downMs: 200 },
    counts: { tests: 1, passed: 0, failed: 1, pending: 0 },
    specs: [{ suite: 'reachability', title: 'a reaches b', state: 'failed', ms: 10, failure: { kind: 'assertion', message: 'no reply', detail: 'ping' } }],
    facts: { 'ipvs.mode': 'nat' },
  });
  const matrix = (): MatrixReport => {
    const cells = [cell('201024-et')];
    return { lab: 'mx', file: 'mx.yaml', provider: 'netns', startedAt: '2026-12-04T10:00:00.000Z', ms: 5000, jobs: 2, cells, counts: cellCounts(cells), plan: { engines: ['20.10.24'], cells: ['201024-et'] } };
  };

  it('refuses a matrix report (--compare, a part to merge) whose numbers are not numbers, naming the file and the field', () => {
    expect(parseMatrixReport(JSON.stringify(matrix()), 'old/matrix.json', '--compare')).to.deep.equal(matrix());
    const m = matrix() as Json;
    m.cells[0].durations.totalMs = HOSTILE;
    const e = thrown(() => parseMatrixReport(JSON.stringify(m), 'old/matrix.json', '--compare')) as ReportFileError;
    expect(e).to.be.instanceOf(ReportFileError).and.instanceOf(UsageError);
    expect(e.message).to.equal('--compare old/matrix.json is not as overlab writes it: /cells/0/durations/totalMs is "<script>alert(1)</script>", not a finite number of at least 0');
    const n = matrix() as Json;
    n.cells[0].status = '"><script>';
    expect((thrown(() => parseMatrixReport(JSON.stringify(n), 'part/matrix.json', 'the part')) as ReportFileError).pointer).to.equal('/cells/0/status');
  });
});

describe('pages escape every value', () => {
  const report = (s: string, counts: unknown): SpecReport =>
    ({
      lab: s,
      file: s,
      properties: { [s]: s },
      startedAt: '2026-12-04T10:00:00.000Z',
      ms: 1000,
      counts,
      cases: [{ suite: s, title: s, state: 'failed', ms: 1, failure: { kind: 'assertion', message: s, detail: s } }],
    }) as SpecReport;
  const entries = (s: string, counts: unknown): RoomEntry[] => [
    { lab: s, copyOf: s, provider: s, phase: 'up', hosts: { total: 3, running: 3 }, containers: 2, ageSeconds: 60, memoryMiB: 300, report: report(s, counts), svg: undefined },
    { lab: s, copyOf: undefined, provider: s, phase: 'up', hosts: { total: 3, running: 1 }, containers: 2, ageSeconds: 60, memoryMiB: undefined, report: undefined, reportProblem: s, svg: undefined },
  ];
  const now = Date.parse('2026-12-04T10:05:00Z');

  it('the room page: numbers of a report that were never checked, a report problem, a drawing that is not inert', () => {
    const counts = { tests: HOSTILE, passed: HOSTILE, failed: '"><img src=x onerror=alert(1)>', pending: 0, na: HOSTILE };
    const html = renderRoomPage([...entries('t-01', counts), { ...entries('t-02', counts)[1]!, reportProblem: `spec report x is not as overlab writes it: /counts/passed is "${HOSTILE}"`, svg: '<svg><script>alert(1)</script></svg>' }], { now, refreshSeconds: 10 });
    expect(html.match(/<script>/g)).to.have.lengthOf(1); // the page's own filter
    expect(html).to.not.include('<img');
    expect(html).to.include('&lt;script&gt;alert(1)&lt;/script&gt; of &lt;script&gt;alert(1)&lt;/script&gt; specs passed, &quot;&gt;&lt;img src=x onerror=alert(1)&gt; failed');
    expect(html).to.include('last report not shown: spec report x is not as overlab writes it: /counts/passed is &quot;&lt;script&gt;');
    expect(html).to.not.include('<figure');
    expect(inlineSvg('<?xml version="1.0"?><svg><g onload="alert(1)"><text>x</text></g></svg>')).to.equal('');
    expect(inlineSvg('<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>')).to.equal('');
    expect(inlineSvg('<svg><foreignObject><div>x</div></foreignObject></svg>')).to.equal('');
    expect(inlineSvg('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><!-- d0 --><g id="node1"><title>d0</title><text>a &lt;b&gt;</text></g></svg>')).to.match(/^<svg /);
    expect(escapeHtml(12)).to.equal('12');
  });

  const cellOf = (s: string, status: unknown, counts: unknown): MatrixCellResult =>
    ({
      id: s,
      lab: s,
      engine: { requested: s, source: 'static', version: s, origin: s, ran: { engine: s, api: s, containerd: s, runc: s } },
      kv: s,
      mode: s,
      provider: s,
      status,
      reason: s,
      durations: { totalMs: counts, upMs: counts, specsMs: counts, downMs: counts },
      counts: { tests: counts, passed: counts, failed: counts, pending: counts },
      specs: [{ suite: s, title: s, state: status === 'failed' ? 'failed' : status, ms: counts, failure: { kind: 'assertion', message: s, detail: s }, change: s }],
      change: s,
      facts: { [s]: s },
    }) as MatrixCellResult;
  const matrixOf = (s: string, status: unknown, counts: unknown): MatrixReport =>
    ({
      lab: s,
      file: s,
      provider: s,
      startedAt: s,
      ms: counts,
      jobs: counts,
      cells: [cellOf(s, status, counts), cellOf(s, status, counts)],
      counts: { cells: counts, passed: counts, failed: counts, error: counts, na: counts },
      factChanges: [{ from: s, to: s, fact: s, before: s, after: s }],
      compare: { previous: s, newlyFailing: counts, newlyPassing: counts, new: counts, gone: counts, goneCells: [{ id: s, status }], factChanges: [{ from: s, to: s, fact: s, before: s, after: s }] },
    }) as MatrixReport;

  it('the matrix page: statuses, states and numbers that were never checked', () => {
    const html = renderMatrixPage(matrixOf(HOSTILE, HOSTILE, HOSTILE));
    expect(html.match(/<script>/g)).to.have.lengthOf(1); // the page's own filter
    expect(html).to.include('class="cell &lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(html).to.include('&lt;script&gt;alert(1)&lt;/script&gt; at a time');
  });

  it('JUnit: numbers of a report that were never checked', () => {
    const xml = renderJunit({ ...report('x', { tests: '"/><x a="', passed: 1, failed: 0, pending: 0, na: 0 }), cases: [{ suite: 's', title: 't', state: 'passed', ms: 1, measured: { m: '"/><x a="' as unknown as number } }] });
    expect(xml).to.not.include('<x ');
    expect(xml).to.include('tests="&quot;/&gt;&lt;x a=&quot;"');
  });

  /** Markup characters of a page: an escaped value adds none of them. */
  const markup = (html: string) => ({ lt: html.split('<').length, gt: html.split('>').length, quot: html.split('"').length, apos: html.split("'").length });
  const hostileText = fc.oneof(
    fc.string({ minLength: 1, maxLength: 40 }),
    fc.array(fc.constantFrom('<', '>', '"', "'", '&', '</pre>', '<script>', 'onerror=', 'javascript:', '&lt;', '\n', ' ', 'é', '`', 'a', '0'), { minLength: 1, maxLength: 12 }).map((a) => a.join('')),
  );

  it('property: arbitrary text in every field of a report, numbers included, adds no markup to the room or matrix page', () => {
    const roomBase = markup(renderRoomPage(entries('x', { tests: 'x', passed: 'x', failed: 'x', pending: 0, na: 'x' }), { now }));
    const matrixBase = markup(renderMatrixPage(matrixOf('x', 'x', 'x')));
    fc.assert(
      fc.property(hostileText, (s) => {
        expect(markup(renderRoomPage(entries(s, { tests: s, passed: s, failed: s, pending: 0, na: s }), { now }))).to.deep.equal(roomBase);
        expect(markup(renderMatrixPage(matrixOf(s, s, s)))).to.deep.equal(matrixBase);
      }),
      { numRuns: 300 },
    );
  });
});
