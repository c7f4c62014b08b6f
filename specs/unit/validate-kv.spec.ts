// The kv section on its own (harness/lab/validate/kv.ts): which host runs the store.
import { expect } from 'chai';
import type { Lab, LabHost } from '../../harness/lab/types.ts';
import { buildKv } from '../../harness/lab/validate/kv.ts';
import { section } from './validate-section.ts';

const host = (name: string, role: 'docker' | 'kv' = 'docker'): LabHost => ({ name, address: '', role, box: 'b', cpus: 1, memory: 1, ssh: { address: '', user: 'root', port: 22 } });

function run(text: string, hosts: LabHost[], mode: Lab['engine']['mode'] = 'kv'): { kv: Lab['kv']; located: string[] } {
  const s = section(text);
  const kv = buildKv(s.raw, hosts, mode, s.at);
  return { kv, located: s.located() };
}

describe('validate: kv', () => {
  it('defaults to consul on the one host with role kv', () => {
    expect(run('name: t\n', [host('h1'), host('k1', 'kv')])).to.deep.equal({
      kv: { type: 'consul', fallback: undefined, host: 'k1', port: undefined },
      located: [],
    });
  });

  it('keeps the type, fallback, host and port the file sets', () => {
    const { kv, located } = run('kv: { type: etcd, fallback: consul, host: k2, port: 2400 }\n', [host('k1', 'kv'), host('k2', 'kv')]);
    expect(kv).to.deep.equal({ type: 'etcd', fallback: 'consul', host: 'k2', port: 2400 });
    expect(located).to.deep.equal([]);
  });

  it('takes the one kv host in swarm mode too, and none when there is none', () => {
    expect(run('name: t\n', [host('h1'), host('k1', 'kv')], 'swarm').kv.host).to.equal('k1');
    expect(run('name: t\n', [host('h1')], 'swarm')).to.deep.equal({ kv: { type: 'consul', fallback: undefined, host: undefined, port: undefined }, located: [] });
  });

  it('reports a kv.host that is no host, or not a kv host', () => {
    expect(run('kv: { host: k2 }\n', [host('h1'), host('k1', 'kv')]).located).to.deep.equal(['lab.yaml:1:13: kv.host "k2" is not a host of this lab; did you mean "k1"?']);
    expect(run('kv: { host: h1 }\n', [host('h1'), host('k1', 'kv')]).located).to.deep.equal(['lab.yaml:1:13: kv.host "h1" has role docker; give it role: kv']);
  });

  it('needs a kv host in mode kv, at hosts when the mode is the default, at engine.mode when set', () => {
    const need = 'needs a host with role: kv to run the KV store; add one, or set engine.mode: swarm';
    expect(run('name: t\nhosts: [{ name: h1 }]\n', [host('h1')]).located).to.deep.equal([`lab.yaml:2:8: engine.mode kv (the default) ${need}`]);
    expect(run('engine: { mode: kv }\n', [host('h1')]).located).to.deep.equal([`lab.yaml:1:17: engine.mode kv ${need}`]);
  });

  it('asks which of several kv hosts to use', () => {
    const { kv, located } = run('hosts: []\n', [host('k1', 'kv'), host('k2', 'kv')]);
    expect(kv.host).to.equal(undefined);
    expect(located).to.deep.equal(['lab.yaml:1:8: 2 hosts have role kv (k1, k2): name the one to use in kv.host']);
  });

  it('reports a fallback that is the store itself', () => {
    expect(run('kv: { type: etcd, fallback: etcd }\n', [host('k1', 'kv')]).located).to.deep.equal([
      'lab.yaml:1:29: kv.fallback is the same store as kv.type (etcd); name another store or remove it',
    ]);
  });
});
