// Both tutorials' command blocks, as they print them, run in bash with the stock docker CLI
// against the matching shipped lab on netns, with `docker-machine` replaced by `npx overlab`
// and the tutorials' images by the local test image (no registry here). The labs already made
// what the tutorials' first steps make (hosts, KV store, engines, the overlay, the containers),
// so the blocks are the ones that make sense on top of them; a block that had to change in more
// than docker-machine and image names says what changed and why (`changed`).
//
// Not run: `docker-machine create` (the lab made the hosts); `eval "$(docker-machine env
// mh-keystore)"` and the consul container on it (a lab's KV host runs its KV store itself, not a
// Docker engine); `env --swarm` and `docker info`'s Swarm view (classic Swarm is not part of
// overlab; the constraint variables the tutorial then passes are kept, and harmless).
import { expect } from 'chai';
import { execa } from 'execa';
import { ROOT, Scratch, shippedLab } from './support/labs.ts';

/** One command block of a tutorial. */
interface Block {
  /** Where it is in the tutorial. */
  step: string;
  /** The commands as the tutorial prints them, `docker-machine` and images included. */
  commands: string;
  /** What differs from the tutorial's text besides docker-machine and image names, and why. */
  changed?: string;
  /** What the output (stdout and stderr) must show. */
  shows: RegExp[];
  /** What it must not show. */
  hides?: RegExp[];
}

interface Tutorial {
  title: string;
  /** The shipped lab it matches, and the name the test runs it under (never a user's lab). */
  lab: string;
  name: string;
  blocks: Block[];
}

/**
 * The local image for the tutorials' images. Where the tutorial runs a server (nginx, mysql),
 * busybox's own serves in its place: httpd with a page, nc listening on mysql's port.
 */
const STAND_INS: Record<string, string> = {
  nginx: `overlab/busybox sh -c 'mkdir -p /www && echo "<h1>Welcome to nginx!</h1>" > /www/index.html && exec httpd -f -p 80 -h /www'`,
  mysql: 'overlab/busybox nc -ll -p 3306 -e echo mysql',
  busybox: 'overlab/busybox',
};

/** The tutorial's text as it runs here: docker-machine is `npx overlab`, images the local one. */
function asOverlab(commands: string): string {
  return commands.replace(/\bdocker-machine\b/g, 'npx overlab').replace(/(?<![\w/.-])(nginx|mysql|busybox)(?![\w/.-])/g, (image) => STAND_INS[image]!);
}

const UNIX_URL = (lab: string, host: string) => `unix:///run/overlab/${lab}/${host}/docker.sock`;
const row = (name: string, active: '\\*' | '-', lab: string) =>
  new RegExp(`^${name}\\s+${active}\\s+netns\\s+running\\s+${name.endsWith('keystore') || name === 'consul' ? '-\\s+-' : `${UNIX_URL(lab, name)}\\s+20\\.10\\.\\S+`}\\s+${lab}$`, 'm');

const TUTORIALS: Tutorial[] = [
  {
    title: 'Get started with multi-host networking (Docker docs: mh-keystore, mhs-demo0, mhs-demo1)',
    lab: 'tutorial.yaml',
    name: 'fd-tutorial',
    blocks: [
      {
        step: 'Step 2.1: the cluster store create passes to the engines',
        commands: 'echo --engine-opt="cluster-store=consul://$(docker-machine ip mh-keystore):8500"',
        shows: [/^--engine-opt=cluster-store=consul:\/\/172\.28\.128\.5:8500$/m],
      },
      {
        step: 'Step 2.3: list your machines',
        commands: 'docker-machine ls',
        shows: [/^NAME\s+ACTIVE\s+DRIVER\s+STATE\s+URL\s+DOCKER\s+LAB$/m, row('mh-keystore', '-', 'fd-tutorial'), row('mhs-demo0', '-', 'fd-tutorial'), row('mhs-demo1', '-', 'fd-tutorial')],
      },
      {
        step: 'Step 3.1-3.2: point the environment at mhs-demo0, docker info',
        commands: 'eval $(docker-machine env mhs-demo0)\ndocker info',
        changed: 'env without --swarm: classic Swarm is not part of overlab',
        shows: [/Server Version: 20\.10/, /Name: mhs-demo0$/m, /cluster-store/],
      },
      {
        step: 'Step 3.3: create the overlay network',
        commands: 'eval $(docker-machine env mhs-demo0)\ndocker network create --driver overlay --subnet=10.0.9.0/24 my-net2',
        changed: 'named my-net2: the lab made my-net already (10.0.4.0/24)',
        shows: [/^[0-9a-f]{64}$/m],
      },
      {
        step: 'Step 3.4: check that the network is running',
        commands: 'eval $(docker-machine env mhs-demo0)\ndocker network ls',
        shows: [/\smy-net\s+overlay\s+global$/m, /\smy-net2\s+overlay\s+global$/m],
      },
      {
        step: 'Step 3.5: switch to each agent in turn and list the networks',
        commands: 'eval $(docker-machine env mhs-demo0)\ndocker network ls\neval $(docker-machine env mhs-demo1)\ndocker network ls',
        shows: [/\smy-net2\s+overlay\s+global\n[\s\S]*\smy-net2\s+overlay\s+global$/m],
      },
      {
        step: 'Step 4.2: start a web server on mhs-demo0',
        commands: 'eval $(docker-machine env mhs-demo0)\ndocker run -itd --name=web --net=my-net --env="constraint:node==mhs-demo0" nginx',
        changed: 'env of mhs-demo0 instead of --swarm with a constraint: the same host',
        shows: [/^[0-9a-f]{64}\r?$/m],
      },
      {
        step: "Step 4.4: a busybox on mhs-demo1 gets the web server's home page",
        commands: 'eval $(docker-machine env mhs-demo1)\ndocker run -it --rm --net=my-net --env="constraint:node==mhs-demo1" busybox wget -O- http://web',
        changed: 'env of mhs-demo1 instead of --swarm with a constraint: the same host',
        shows: [/Connecting to web \(10\.0\.4\.\d+:80\)/, /<h1>Welcome to nginx!<\/h1>/],
      },
      {
        step: 'Step 5.1-5.2: the docker_gwbridge network on the agent',
        commands: 'eval $(docker-machine env mhs-demo1)\ndocker network ls',
        shows: [/\smy-net\s+overlay\s+global$/m, /\sdocker_gwbridge\s+bridge\s+local$/m],
      },
      {
        step: "Step 5.3: the web container's interfaces",
        commands: 'eval $(docker-machine env mhs-demo0)\ndocker network ls\ndocker exec web ip addr',
        shows: [/\sdocker_gwbridge\s+bridge/, /eth0@\S+: <[^>]*UP[^>]*> mtu 1450 /, /inet 10\.0\.4\.\d+\/24 /, /eth1@\S+: <[^>]*> mtu 1500 /],
      },
      {
        step: 'Beyond the tutorial: the shipped containers, by name across hosts; ls marks the active host',
        commands: 'eval "$(docker-machine env mhs-demo1)"\ndocker run --rm --net=my-net busybox ping -c 2 c0\ndocker-machine ls',
        shows: [/2 packets transmitted, 2 packets received/, row('mhs-demo1', '\\*', 'fd-tutorial'), row('mhs-demo0', '-', 'fd-tutorial')],
      },
    ],
  },
  {
    title: 'docker-machine multi-host networking (consul, machine1, machine2, overlay myapp, web and db)',
    lab: 'docker-machine.yaml',
    name: 'fd-machine',
    blocks: [
      {
        step: 'the cluster store create passes to machine1 and machine2',
        commands: 'echo --engine-opt="cluster-store=consul://$(docker-machine ip consul):8500"',
        shows: [/^--engine-opt=cluster-store=consul:\/\/192\.168\.99\.100:8500$/m],
      },
      {
        step: 'set up the overlay network',
        commands: 'docker $(docker-machine config machine1) network create -d overlay myapp2\ndocker $(docker-machine config machine2) network ls',
        changed: 'named myapp2: the lab made myapp already',
        shows: [/^[0-9a-f]{64}$/m, /\smyapp\s+overlay\s+global$/m, /\smyapp2\s+overlay\s+global$/m],
      },
      {
        step: 'use containers and the overlay network',
        commands: 'docker $(docker-machine config machine1) run -d --name=web2 --net=myapp2 nginx\ndocker $(docker-machine config machine1) run -d --name=db2 --net=myapp2 mysql',
        changed: 'named web2 and db2 on myapp2: the lab made web and db on myapp already',
        shows: [/^[0-9a-f]{64}\n[0-9a-f]{64}$/m],
      },
      {
        step: 'Beyond the tutorial: web and db find each other by name across machines',
        commands:
          'docker $(docker-machine config machine2) run --rm --net=myapp busybox nslookup web\n' +
          'docker $(docker-machine config machine1) exec web ping -c 2 db\n' +
          'docker $(docker-machine config machine2) run --rm --net=myapp2 busybox wget -O- http://web2',
        shows: [/Name:\s+web\nAddress(?: 1)?:\s+10\.0\.9\.\d+/, /2 packets transmitted, 2 packets received/, /<h1>Welcome to nginx!<\/h1>/],
      },
      {
        step: 'Beyond the tutorial: ip, ls and env',
        commands: 'docker-machine ip machine1\neval $(docker-machine env machine2)\ndocker-machine ls\ndocker ps --format "{{.Names}}"',
        shows: [/^192\.168\.99\.101$/m, row('machine2', '\\*', 'fd-machine'), row('machine1', '-', 'fd-machine'), row('consul', '-', 'fd-machine'), /^db$/m],
        hides: [/^web$/m],
      },
    ],
  },
];

describe('the tutorials, command block by command block, with `npx overlab` for docker-machine', function () {
  this.timeout(180_000);
  let s: Scratch;

  before(() => {
    s = new Scratch();
  });
  after(async () => {
    for (const t of TUTORIALS) await s.run(['down', '--force', '--lab', t.name]);
    s.dispose();
  });

  it('replaces docker-machine and the images, and nothing else', () => {
    expect(asOverlab('eval $(docker-machine env mhs-demo1)\ndocker run -it --rm --net=my-net busybox wget -O- http://web')).to.equal(
      'eval $(npx overlab env mhs-demo1)\ndocker run -it --rm --net=my-net overlab/busybox wget -O- http://web',
    );
  });

  for (const t of TUTORIALS) {
    describe(t.title, () => {
      let up = false;
      before(async function () {
        const file = s.lab(t.name, shippedLab(t.lab, t.name));
        const r = await s.run(['up', '--lab', file, '--quiet']);
        expect(r.exitCode, r.all).to.equal(0);
        up = true;
      });
      after(async () => {
        await s.run(['down', '--force', '--lab', t.name]);
      });

      for (const b of t.blocks) {
        it(`${b.step}${b.changed ? ` (${b.changed})` : ''}`, async function () {
          if (!up) this.skip();
          const script = asOverlab(b.commands);
          const r = await runInTerminal(script, s.home);
          const out = r.output.replace(/\r\n/g, '\n').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
          expect(r.exitCode, `$ ${script.replace(/\n/g, '\n$ ')}\n${out}`).to.equal(0);
          for (const re of b.shows) expect(out, `$ ${script.replace(/\n/g, '\n$ ')}\n${out}`).to.match(re);
          for (const re of b.hides ?? []) expect(out).to.not.match(re);
        });
      }
    });
  }
});

/**
 * Runs `script` in `bash -e` under script(1), which gives it a terminal (the tutorials' `-it`
 * needs one), from the repository (where `npx overlab` is this checkout) with the test's state
 * root and no DOCKER_* variables of the caller's.
 */
async function runInTerminal(script: string, home: string): Promise<{ exitCode: number | undefined; output: string }> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('DOCKER_') && k !== 'OVERLAB_HOME') env[k] = v;
  const r = await execa('script', ['-qec', 'bash -ec "$TUTORIAL_BLOCK"', '/dev/null'], {
    cwd: ROOT,
    // npm_config_progress: no npx spinner on the terminal.
    env: { ...env, OVERLAB_HOME: home, TUTORIAL_BLOCK: script, FORCE_COLOR: '0', NO_COLOR: '1', npm_config_progress: 'false' },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    all: true,
    timeout: 150_000,
  });
  return { exitCode: r.exitCode, output: String(r.all ?? '') };
}
