// A lab handed to a Unix user or group (`up --owner`): what the command line takes, who may
// do what with the lab (root anything, the owner use it, anyone else nothing, naming the owner),
// the doors the relay makes, the state field read back; and the engines-alone mode a room's
// students make their swarm on. No lab is brought up here (specs/integration/room-owners.spec.ts does).
import { expect } from 'chai';
import { PermissionError, UsageError } from '../../harness/errors.ts';
import { parseLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { requireAccess } from '../../harness/lifecycle/access.ts';
import { connectProxy, CONNECT_SCRIPT, relayConfig } from '../../harness/providers/netns/hand-over.ts';
import { labHandout } from '../../harness/render/handout.ts';
import { checkLabState } from '../../harness/state/check-state.ts';
import { describeOwner, mayUse, ownersFor, ownership, parseOwners, resolveOwner, type LabOwner } from '../../harness/state/owner.ts';
import type { LabState } from '../../harness/state/store.ts';
import { expectOnlyProblem, labText } from './lab-text.ts';

const alice: LabOwner = { kind: 'user', name: 'alice', id: 1001 };
const students: LabOwner = { kind: 'group', name: 'students', id: 2000 };

function state(owner?: LabOwner): LabState {
  const now = new Date().toISOString();
  return { version: 1, lab: 'tut-01', provider: 'netns', mode: 'kv', file: '/srv/room/tutorial.yaml', ...(owner ? { owner } : {}), phase: 'up', createdAt: now, updatedAt: now, hosts: {}, resources: {} };
}

function refusal(fn: () => void): PermissionError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(PermissionError);
    return e as PermissionError;
  }
  return expect.fail('expected a PermissionError');
}

describe('labs handed to a user (up --owner)', () => {
  describe('--owner LIST', () => {
    it('takes users by name or uid and groups as :NAME or :GID, comma-separated', () => {
      expect(parseOwners('alice,1002,:students,:2000')).to.deep.equal([
        { kind: 'user', name: 'alice' },
        { kind: 'user', name: '1002' },
        { kind: 'group', name: 'students' },
        { kind: 'group', name: '2000' },
      ]);
    });

    for (const bad of ['', 'Alice', 'al ice', '../x', 'a:b', '::x', '-rf', 'alice,', `${'a'.repeat(33)}`]) {
      it(`refuses ${JSON.stringify(bad)}, naming the entry`, () => {
        expect(() => parseOwners(bad)).to.throw(UsageError, /--owner: ".*" is not a user \(NAME or UID\) or a group \(:NAME or :GID\)/);
      });
    }

    it('gives one owner to every copy, or one each in order; any other count is refused', () => {
      const [a, b] = parseOwners('alice,bob');
      expect(ownersFor([a!], 3)).to.deep.equal([a, a, a]);
      expect(ownersFor([a!, b!], 2)).to.deep.equal([a, b]);
      expect(() => ownersFor([a!, b!], 3)).to.throw(UsageError, '--owner names 2 owners for 3 copies: give one owner for all, or one per copy');
    });

    it('finds users and groups through getent, keeps a bare id, and refuses a name nobody has', () => {
      expect(resolveOwner({ kind: 'user', name: 'root' })).to.deep.equal({ kind: 'user', name: 'root', id: 0 });
      expect(resolveOwner({ kind: 'group', name: '0' })).to.deep.equal({ kind: 'group', name: 'root', id: 0 });
      expect(resolveOwner({ kind: 'user', name: '4999999' })).to.deep.equal({ kind: 'user', name: '4999999', id: 4999999 });
      expect(() => resolveOwner({ kind: 'user', name: 'no-such-user-xq' })).to.throw(UsageError, '--owner: no user named "no-such-user-xq" on this machine');
    });
  });

  describe('who may do what', () => {
    it('root may do anything; the owner user, or a member of the owner group, may use the lab; nobody else', () => {
      expect(mayUse(alice, { uid: 0, gids: [0] })).to.equal(true);
      expect(mayUse(alice, { uid: 1001, gids: [1001] })).to.equal(true);
      expect(mayUse(alice, { uid: 1002, gids: [1001] }), 'a user in alice\'s group is not alice').to.equal(false);
      expect(mayUse(students, { uid: 1002, gids: [1002, 2000] })).to.equal(true);
      expect(mayUse(students, { uid: 2000, gids: [1003] }), 'a uid equal to the gid is not a member').to.equal(false);
    });

    it('the owner may do what the command allows owners; changing the lab (up, down, faults) stays root\'s, and says so', () => {
      expect(() => requireAccess(state(alice), 'lab tut-01', 'run its specs', { uid: 1001, gids: [1001] })).to.not.throw();
      const e = refusal(() => requireAccess(state(alice), 'taking lab tut-01 down', undefined, { uid: 1001, gids: [1001] }));
      expect(e.message).to.equal('lab tut-01 is handed to user alice (uid 1001), who may use it, not change it: taking lab tut-01 down needs root');
      expect(e.root).to.equal(true);
    });

    it('another user is refused, naming the owner, and is not offered sudo (root is not what they lack)', () => {
      const e = refusal(() => requireAccess(state(alice), 'lab tut-01', 'use its engines', { uid: 1002, gids: [1002] }));
      expect(e.message).to.equal('lab tut-01 is handed to user alice (uid 1001); you (uid 1002) may not use its engines');
      expect(e.root).to.equal(false);
      const g = refusal(() => requireAccess(state(students), 'lab tut-01', 'ssh to its hosts', { uid: 1002, gids: [1002] }));
      expect(g.message).to.equal('lab tut-01 is handed to group students (gid 2000); you (uid 1002) may not ssh to its hosts');
    });

    it('a lab handed to nobody needs root, as before; root passes every check', () => {
      const e = refusal(() => requireAccess(state(), 'lab tut-01', 'run its specs', { uid: 1001, gids: [1001] }));
      expect(e.message).to.match(/^lab tut-01 needs root: the netns provider/);
      expect(() => requireAccess(state(alice), 'taking lab tut-01 down', undefined, { uid: 0, gids: [0] })).to.not.throw();
    });

    it('names owners as messages and status show them', () => {
      expect(describeOwner(alice)).to.equal('user alice (uid 1001)');
      expect(describeOwner(students)).to.equal('group students (gid 2000)');
      expect(describeOwner({ kind: 'user', name: '4242', id: 4242 })).to.equal('uid 4242');
    });
  });

  describe('the doors', () => {
    it('a user owner gets its doors alone (0600); a group owner shares them, root keeping the user (0660)', () => {
      expect(ownership(alice, { user: 0o600, group: 0o660 })).to.deep.equal({ uid: 1001, gid: 0, mode: 0o600 });
      expect(ownership(students, { user: 0o600, group: 0o660 })).to.deep.equal({ uid: 0, gid: 2000, mode: 0o660 });
    });

    it('relays each docker host\'s engine socket and every host\'s sshd, from sockets in the lab\'s runtime folder', () => {
      const plan = planLab(parseLab(labText`
        name: tut-01
        network: { subnet: 172.28.128.0/24 }
        hosts:
          - { name: kv, address: 172.28.128.5, role: kv }
          - { name: d0, address: 172.28.128.6 }
        networks: [{ name: n, subnet: 10.0.4.0/24 }]
        containers: [{ name: c0, host: d0, networks: [n] }]
      `, 'lab.yaml'));
      expect(relayConfig(plan, alice)).to.deep.equal({
        uid: 1001,
        gid: 0,
        mode: 0o600,
        relays: [
          { listen: '/run/overlab/tut-01/owner/kv.ssh.sock', to: { host: '172.28.128.5', port: 22 } },
          { listen: '/run/overlab/tut-01/owner/d0.docker.sock', to: { path: '/run/overlab/tut-01/d0/docker.sock' } },
          { listen: '/run/overlab/tut-01/owner/d0.ssh.sock', to: { host: '172.28.128.6', port: 22 } },
        ],
      });
    });

    it("the proxy command is one line without %, as OpenSSH's ProxyCommand needs", () => {
      const argv = connectProxy('/run/overlab/tut-01/owner/d0.ssh.sock', '/usr/bin/node');
      expect(argv[0]).to.equal('/usr/bin/node');
      expect(argv[2]).to.not.include('\n');
      expect(argv[2]).to.not.include('%');
      expect(CONNECT_SCRIPT).to.include('allowHalfOpen: true');
      expect(argv[3]).to.equal('/run/overlab/tut-01/owner/d0.ssh.sock');
    });
  });

  describe('the state records the owner, checked when read', () => {
    const ctx = { stateDir: '/srv/room/.overlab/tut-01', env: {}, uid: 0 };
    it('keeps a user or group with its id', () => {
      expect(checkLabState(JSON.parse(JSON.stringify(state(students))), ctx).owner).to.deep.equal(students);
    });
    for (const [why, owner] of [
      ['a name that is no user name', { kind: 'user', name: '../etc', id: 1 }],
      ['a kind that is neither user nor group', { kind: 'other', name: 'alice', id: 1 }],
      ['an id that is no uid', { kind: 'user', name: 'alice', id: -1 }],
    ] as const) {
      it(`refuses ${why}`, () => {
        expect(() => checkLabState({ ...JSON.parse(JSON.stringify(state())), owner }, ctx)).to.throw(/\/owner\//);
      });
    }
  });
});

describe('engine.mode alone: engines with no cluster, for students who make the swarm', () => {
  const alone = (extra = '') => `name: cls\nhosts: [{ name: manager }, { name: worker }]\nengine: { mode: alone }\n${extra}`;

  it('plans engines with no KV store and no cluster flags, and the engines-alone fact over every docker host', () => {
    const plan = planLab(parseLab(alone(), 'lab.yaml'));
    expect(plan.mode).to.equal('alone');
    expect(plan.kv).to.equal(undefined);
    expect(plan.hosts.map((h) => h.daemon?.clusterStore)).to.deep.equal([undefined, undefined]);
    expect(plan.facts).to.deep.equal([{ kind: 'engines-alone', hosts: ['manager', 'worker'] }]);
  });

  it('refuses networks and containers (the students make them), naming what to do instead', () => {
    expectOnlyProblem(alone('networks: [{ name: n, subnet: 10.0.4.0/24 }]\n'), 4, 11, 'engine.mode alone has no networks', 'leave networks out, or use engine.mode swarm');
  });

  it('refuses a KV host and a kv section', () => {
    expectOnlyProblem('name: cls\nhosts: [{ name: k, role: kv }, { name: m }]\nengine: { mode: alone }\n', 2, 26, 'host "k" has role kv, but engine.mode alone runs no KV store');
    expectOnlyProblem(alone('kv: { type: etcd }\n'), 4, 5, 'engine.mode alone runs no KV store: leave kv out');
  });

  it("hands out Docker's overlay tutorial: swarm init on the first host, join with its token, an attachable overlay reached by name", () => {
    const plan = planLab(parseLab(alone(), 'lab.yaml'));
    const h = labHandout(plan, 'npx overlab', { owner: 'user alice (uid 1001)', project: '/srv/room', home: '/srv/room/.overlab' });
    expect(h.sections.map((s) => s.title)).to.deep.equal(['Your lab', 'Point your docker CLI at a host', 'Make the swarm', 'An overlay of your own across the hosts', 'A shell on a host', 'Check your lab']);
    expect(h.sections[0]!.commands).to.deep.equal(['cd /srv/room', 'export OVERLAB_HOME=/srv/room/.overlab']);
    const swarm = h.sections[2]!.commands;
    expect(swarm).to.include(`docker swarm init --advertise-addr ${plan.hosts[0]!.address}`);
    expect(swarm).to.include(`docker swarm join --token "$TOKEN" ${plan.hosts[0]!.address}:2377`);
    expect(h.sections[3]!.commands).to.include('docker network create -d overlay --attachable --subnet 10.0.4.0/24 my-net');
  });
});
