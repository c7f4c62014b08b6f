// ZooKeeper as it is packaged by Debian: a Java class path rather than one binary, a config
// file rather than flags, and no four-letter commands in 3.8, so it is probed with a real
// client handshake.

export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
export const ZOOKEEPER_CONF_DIR = '/etc/zookeeper/conf';
export const ZOOKEEPER_PRESENT_TEST = `command -v java >/dev/null && test -r ${ZOOKEEPER_JAR}`;

/** `sh -c` argv that writes zoo.cfg from `key=value` settings and runs the standalone server. */
export function zookeeperLaunch(settings: string[], dataDir: string): string[] {
  const cfg = `${dataDir}/zoo.cfg`;
  const body = ['tickTime=2000', ...settings].join('\n');
  return [
    'sh',
    '-c',
    `printf '%s\\n' "$1" > "$2" && exec java -Dzookeeper.admin.enableServer=false -cp ${ZOOKEEPER_JAR}:${ZOOKEEPER_CONF_DIR} org.apache.zookeeper.server.ZooKeeperServerMain "$2"`,
    'zookeeper',
    body,
    cfg,
  ];
}

/**
 * A shell script that opens a ZooKeeper session (ConnectRequest: protocol 0, zxid 0, timeout
 * 30000, session 0, a 16-byte empty password, read-only false) and prints the reply's bytes.
 */
export function zookeeperProbeScript(address: string, port: number): string {
  const bytes = [
    0, 0, 0, 45, // frame length
    0, 0, 0, 0, // protocol version
    0, 0, 0, 0, 0, 0, 0, 0, // last zxid seen
    0, 0, 0x75, 0x30, // timeout 30000 ms
    0, 0, 0, 0, 0, 0, 0, 0, // session id
    0, 0, 0, 16, ...new Array<number>(16).fill(0), // password
    0, // read-only
  ];
  const octal = bytes.map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
  return `printf '${octal}' | busybox timeout 2 busybox nc ${address} ${port} | busybox od -An -tx1 | busybox head -c 64`;
}

/** `ls PATH` with ZooKeeper's own command-line client (prints the children as "[a, b]"). */
export function zookeeperListArgv(address: string, port: number, path: string): string[] {
  return ['java', '-cp', `${ZOOKEEPER_JAR}:${ZOOKEEPER_CONF_DIR}`, 'org.apache.zookeeper.ZooKeeperMain', '-server', `${address}:${port}`, 'ls', path];
}
