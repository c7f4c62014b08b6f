// The engine section on its own (harness/lab/validate/engine.ts): versions per mode and source,
// source settings, flags, and mode alone.
import { expect } from 'chai';
import { buildEngine, parseEngineVersion } from '../../harness/lab/validate/engine.ts';
import type { LabHost } from '../../harness/lab/types.ts';
import { labText } from './lab-text.ts';
import { section } from './validate-section.ts';

const host = (name: string, role: 'docker' | 'kv' = 'docker'): LabHost => ({ name, address: '', role, box: 'b', cpus: 1, memory: 1, ssh: { address: '', user: 'root', port: 22 } });
const hosts = [host('h1'), host('k1', 'kv')];

/** The located problems of the engine rules for a lab text. */
function problems(text: string, on = hosts): string[] {
  const s = section(text);
  buildEngine(s.raw, on, s.at);
  return s.located();
}

describe('validate: engine', () => {
  it('parses X.Y and X.Y.Z versions only', () => {
    expect(parseEngineVersion('20.10')).to.deep.equal({ major: 20, minor: 10 });
    expect(parseEngineVersion('20.10.24')).to.deep.equal({ major: 20, minor: 10, patch: 24 });
    expect(parseEngineVersion('latest')).to.equal(undefined);
    expect(parseEngineVersion('20')).to.equal(undefined);
  });

  it('defaults to Docker 20.10 from the system, installed by apt, in mode kv', () => {
    const s = section('name: t\nhosts: [{ name: h1 }]\n');
    expect(buildEngine(s.raw, hosts, s.at)).to.deep.equal({
      version: '20.10',
      mode: 'kv',
      install: 'apt',
      advertisePort: 2376,
      source: 'system',
      suite: undefined,
      sha256: undefined,
      flags: [],
    });
    expect(s.located()).to.deep.equal([]);
  });

  it('keeps what the file sets', () => {
    const s = section(labText`
      name: t
      hosts: [{ name: h1 }]
      engine: { version: 24.0.7, mode: swarm, source: static, sha256: "${'a'.repeat(64)}", advertisePort: 2380, flags: ["--debug"] }
    `);
    expect(buildEngine(s.raw, hosts, s.at)).to.deep.include({ version: '24.0.7', mode: 'swarm', source: 'static', sha256: 'a'.repeat(64), advertisePort: 2380, flags: ['--debug'] });
    expect(s.located()).to.deep.equal([]);
  });

  it('reports a version that is none', () => {
    expect(problems('engine: { version: "20.x" }\n')).to.deep.equal([
      'lab.yaml:1:20: engine.version "20.x" is not a version: write e.g. "20.10", "20.10.24", "distro" or "latest"',
    ]);
  });

  it('reports versions mode kv cannot run: before 1.9, and from 23.0 (or latest)', () => {
    expect(problems('engine: { version: "1.8" }\n')).to.deep.equal([
      'lab.yaml:1:20: engine.version 1.8 has no overlay networks: multi-host networking came in Docker 1.9; use engine.version "20.10"',
    ]);
    const removed =
      'cannot run mode kv: --cluster-store and --cluster-advertise were deprecated in Docker 20.10 and removed in 23.0; use engine.version "20.10" (or older), or engine.mode "swarm"';
    expect(problems('engine: { version: "23.0" }\n')).to.deep.equal([`lab.yaml:1:20: engine.version 23.0 ${removed}`]);
    expect(problems('engine: { version: latest }\n')).to.deep.equal([`lab.yaml:1:20: engine.version latest ${removed}`]);
  });

  it('reports a swarm mode before 1.13', () => {
    expect(problems('engine: { version: "1.12", mode: swarm }\n')).to.deep.equal([
      'lab.yaml:1:20: engine.version 1.12 cannot run mode swarm: standalone containers need attachable overlays, which came in Docker 1.13; use engine.version "20.10" or newer',
    ]);
  });

  it('needs exact versions from static archives, package archives and auto', () => {
    expect(problems('engine: { version: "24.0", mode: swarm, source: static }\n')).to.deep.equal([
      'lab.yaml:1:20: engine.source static needs an exact engine.version X.Y.Z (the archive docker-X.Y.Z.tgz); got "24.0"',
    ]);
    expect(problems('engine: { version: "24.0", mode: swarm, source: debian }\n')).to.deep.equal([
      'lab.yaml:1:20: engine.source debian needs an exact engine.version: a release X.Y.Z (or a package version such as 28.5.2+dfsg4-5); got "24.0"',
    ]);
    expect(problems('engine: { version: "28.5.2+dfsg4-5", mode: swarm, source: debian }\n')).to.deep.equal([]);
    expect(problems('engine: { version: "28.5.2+dfsg4-5", mode: swarm, source: auto }\n')).to.deep.equal([
      'lab.yaml:1:20: engine.version "28.5.2+dfsg4-5" is not a version: write e.g. "20.10", "20.10.24", "distro" or "latest"',
      'lab.yaml:1:20: engine.source auto finds a release X.Y.Z (a package version names one archive: use engine.source debian or ubuntu); got "28.5.2+dfsg4-5"',
    ]);
  });

  it('reports a suite without a package archive, and a sha256 without a static archive', () => {
    expect(problems('engine: { suite: bookworm, sha256: "abc" }\n')).to.deep.equal([
      'lab.yaml:1:18: engine.suite names a suite of a package archive: it needs engine.source debian or ubuntu (not system)',
      'lab.yaml:1:36: engine.sha256 checks a static archive: it needs engine.source static',
    ]);
  });

  it('reports a flag off the allowlist at its place in the list', () => {
    const [p, ...rest] = problems('engine: { flags: ["--debug", "--data-root=/x"] }\n');
    expect(rest).to.deep.equal([]);
    expect(p).to.match(/^lab\.yaml:1:30: engine\.flags\[1\] "--data-root=\/x" /);
  });

  it('mode alone: no kv, no kv hosts, no networks, no containers', () => {
    expect(
      problems(
        labText`
          hosts: [{ name: h1 }, { name: k1, role: kv }]
          engine: { mode: alone }
          kv: { type: etcd }
          networks: [{ name: n, subnet: 10.0.1.0/24 }]
          containers: [{ name: c, host: h1, networks: [n] }]
        `,
      ),
    ).to.deep.equal([
      'lab.yaml:3:5: engine.mode alone runs no KV store: leave kv out (or use engine.mode kv)',
      'lab.yaml:1:41: host "k1" has role kv, but engine.mode alone runs no KV store: give it role docker, or remove it',
      'lab.yaml:4:11: engine.mode alone has no networks: the engines run alone, and the overlays and their containers are what the students make (docker swarm init, join, network create); leave networks out, or use engine.mode swarm',
      'lab.yaml:5:13: engine.mode alone has no containers: the engines run alone, and the overlays and their containers are what the students make (docker swarm init, join, network create); leave containers out, or use engine.mode swarm',
    ]);
  });
});
