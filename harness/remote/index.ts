// Running things on a host from here: commands, uploads and logs over an SSH connection
// (ssh.ts), `vagrant ssh-config` text into endpoints (ssh-config.ts), a Docker engine through
// its unix socket forwarded over SSH (ssh-engine.ts), services under systemd (systemd-services.ts),
// and command lines for a remote shell (shell.ts).
export { SshConnection, SshRunner, type SshConnectOptions, type SshRunnerOptions, type UploadSource } from './ssh.ts';
export { parseSshConfig, sshConfigEndpoints, type SshConfigHost } from './ssh-config.ts';
export { closeSshEngine, sshEngineClient } from './ssh-engine.ts';
export { SystemdServices } from './systemd-services.ts';
export { remoteCommand, shellJoin, shellQuote } from './shell.ts';
