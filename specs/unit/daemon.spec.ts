import { expect } from 'chai';
import { daemonFlags, panicLine } from '../../harness/engine/daemon.ts';
import type { DaemonPlan, KvCandidate } from '../../harness/lab/types.ts';

describe('engine daemon settings', () => {
  const d: DaemonPlan = { clusterStore: 'consul://172.28.128.5:8500', clusterAdvertise: '172.28.128.6:2376', labels: { 'overlab.lab': 't' } };

  it('gives the tutorial flags, by address', () => {
    expect(daemonFlags(d)).to.deep.equal(['--cluster-store=consul://172.28.128.5:8500', '--cluster-advertise=172.28.128.6:2376', '--label=overlab.lab=t']);
  });

  it('swaps in the cluster store of the KV store actually chosen', () => {
    const etcd = { clusterStore: 'etcd://172.28.128.5:2379' } as KvCandidate;
    expect(daemonFlags(d, etcd)).to.deep.equal(['--cluster-store=etcd://172.28.128.5:2379', '--cluster-advertise=172.28.128.6:2376', '--label=overlab.lab=t']);
  });

  it('has no cluster flags in swarm mode', () => {
    expect(daemonFlags({ clusterStore: undefined, clusterAdvertise: undefined, labels: {} })).to.deep.equal([]);
  });

  it('quotes a Go panic with the function it happened in', () => {
    const log = [
      'time="..." level=info msg="..."',
      'panic: runtime error: invalid memory address or nil pointer dereference',
      '[signal SIGSEGV: segmentation violation code=0x1 addr=0x1c pc=0x56334c72f6c7]',
      '',
      'goroutine 85 [running]:',
      'github.com/docker/libnetwork.(*endpointCnt).Key(0x0)',
      '\t/build/docker.io/libnetwork/endpoint_cnt.go:40 +0x7',
    ].join('\n');
    expect(panicLine(log)).to.equal(
      'panic: runtime error: invalid memory address or nil pointer dereference (in github.com/docker/libnetwork.(*endpointCnt).Key)',
    );
    expect(panicLine('level=info msg="all good"')).to.equal(undefined);
  });

  it('finds the panic behind output the crash cut off on the same line, but not in a logged message', () => {
    const stack = ['', 'goroutine 85 [running]:', 'github.com/docker/libnetwork.(*endpointCnt).Key(0x0)', '\t/build/x/store.go:448 +0xfb'];
    const cut = ['time="..." level=info msg="..."', 'runtime=io.containerd.runc.v2panic: runtime error: invalid memory address or nil pointer dereference', ...stack].join('\n');
    expect(panicLine(cut)).to.equal('panic: runtime error: invalid memory address or nil pointer dereference (in github.com/docker/libnetwork.(*endpointCnt).Key)');
    const logged = ['time="..." level=error msg="recovered: panic: something"', 'all well'].join('\n');
    expect(panicLine(logged)).to.equal(undefined);
  });
});
