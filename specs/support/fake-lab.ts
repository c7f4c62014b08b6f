// The lab the fake provider's unit specs use: a KV host and two docker hosts (never brought up on a real provider).
export const FAKE_LAB = `name: fakelab
provider: netns
network:
  subnet: 172.28.150.0/24
hosts:
  - name: kv
    role: kv
  - name: d0
  - name: d1
kv:
  type: etcd
engine:
  mode: kv
networks:
  - name: net
    subnet: 10.0.4.0/24
containers:
  - name: c0
    host: d0
    networks: [net]
`;
