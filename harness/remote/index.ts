// Running things on a host from here, one concept per file: the byte stream under an SSH
// connection, TCP or a proxy command (transport.ts); one handshake attempt (handshake.ts); the
// connection with its bounded retries and lifetime (connection.ts); its session channels,
// bounded and retried when sshd refuses an open (channels.ts); commands with exit codes, sudo
// and the streamed log (runner.ts); files over SFTP (upload.ts); `vagrant ssh-config` text into
// endpoints (ssh-config.ts); a Docker engine through its unix socket forwarded over SSH
// (ssh-engine.ts); host keys, fingerprints and known_hosts (host-keys.ts); services under systemd
// (systemd-services.ts); and command lines for a remote shell (shell.ts).
export { SshConnection, type SshConnectOptions, type ChannelExecIo, type ChannelExecResult } from './connection.ts';
export { SshRunner, type SshRunnerOptions } from './runner.ts';
export { type UploadSource } from './upload.ts';
export { fingerprint, HostKeyCheck, knownHostsName, parseKnownHosts, userKnownHosts, type KnownHostEntry } from './host-keys.ts';
export { parseSshConfig, sshConfigEndpoints, type SshConfigHost } from './ssh-config.ts';
export { closeSshEngine, sshEngineClient } from './ssh-engine.ts';
export { SystemdServices } from './systemd-services.ts';
export { remoteCommand } from './shell.ts';
