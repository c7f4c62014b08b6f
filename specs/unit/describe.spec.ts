import { expect } from 'chai';
import { describeUp } from '../../harness/lifecycle/describe.ts';
import { loadLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { NetnsProvider } from '../../harness/providers/netns/netns-provider.ts';

describe('up --dry-run (netns)', () => {
  it('lists, per host, the wiring, the KV store with its fallback, dockerd with the plan flags, networks and containers', async () => {
    const plan = planLab(await loadLab('labs/tutorial.yaml'));
    const hosts = describeUp(plan, new NetnsProvider());
    const of = (h: string) => hosts.find((x) => x.host === h)!.commands;
    expect(hosts.map((h) => h.host)).to.deep.equal(['(switch)', 'mh-keystore', 'mhs-demo0', 'mhs-demo1']);
    expect(of('(switch)')).to.include('ip link add eth1 netns ovl.tutorial.mhs-demo0 type veth peer name p1 netns ovl.tutorial._switch');
    expect(of('mh-keystore').find((c) => c.startsWith('consul agent'))).to.include('-bind=172.28.128.5');
    expect(of('mh-keystore').find((c) => c.includes('etcd '))).to.match(/^# if consul is not installed: etcd .*--enable-v2=true/);
    // Swarm tasks use the image the node has: no engine of a lab reaches for a registry.
    const dockerd = of('mhs-demo1').find((c) => c.startsWith('DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 dockerd '))!;
    expect(dockerd).to.include('--cluster-store=consul://172.28.128.5:8500');
    expect(dockerd).to.include('--cluster-advertise=172.28.128.7:2376');
    expect(dockerd).to.include('--host=unix:///run/overlab/tutorial/mhs-demo1/docker.sock');
    expect(of('mhs-demo0')).to.include('docker network create -d overlay --subnet 10.0.4.0/24 --gateway 10.0.4.1 --attachable --label overlab.lab=tutorial my-net');
    expect(of('mhs-demo1')).to.include('docker start c1');
    // The overlay forwarding check, last on each docker host with a container.
    expect(of('mhs-demo0').at(-1)).to.equal('#   nsenter --net=/run/overlab/tutorial/mhs-demo0/exec/netns/N-NETWORKID bridge fdb show; nsenter --net=/run/overlab/tutorial/mhs-demo0/exec/netns/N-NETWORKID ip neigh show');
  });

  it('lists the services the manager creates, as docker service create', async () => {
    const plan = planLab(await loadLab('labs/services.yaml'));
    const node1 = describeUp(plan, new NetnsProvider()).find((h) => h.host === 'node1')!.commands;
    expect(node1).to.include(
      "docker service create --detach --name api --replicas 2 --endpoint-mode dnsrr --label overlab.lab=services --container-label overlab.lab=services --hostname '{{.Service.Name}}-{{.Task.Slot}}' " +
        "--restart-condition any --restart-delay 1s --network secure --constraint 'node.hostname!=node1' --publish published=9090,target=8080,mode=host " +
        "overlab/busybox:latest sh -c 'trap '\\''exit 0'\\'' TERM; nc -ll -p 8080 -e hostname & wait'",
    );
    expect(node1.findIndex((c) => c.startsWith('docker service create --detach --name web '))).to.be.lessThan(node1.findIndex((c) => c.startsWith('docker create --name probe ')));
  });

  it('shows the swarm being formed in swarm mode', async () => {
    const plan = planLab(await loadLab('labs/swarm.yaml'));
    const hosts = describeUp(plan, new NetnsProvider());
    expect(hosts.find((h) => h.host === 'manager')!.commands).to.include('docker swarm init --advertise-addr 172.28.129.6 --listen-addr 172.28.129.6:2377');
    expect(hosts.find((h) => h.host === 'worker')!.commands).to.include('docker swarm join --token WORKER-TOKEN --advertise-addr 172.28.129.7 172.28.129.6:2377');
  });
});
