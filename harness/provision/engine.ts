// Installing the Docker engine on a Debian or Ubuntu host, per the lab's engine.install:
// Docker's apt repository pinned to a version, the distribution's docker.io, or an engine that
// is already there. Installing only: the host's service manager configures and starts dockerd
// at `up`. The bash logic is sh/engine.sh; this file says which of it a lab runs.
import type { EngineInstall, EngineMode, Plan } from '../lab/types.ts';
import { shellQuote } from '../quote.ts';

export const DOCKER_APT_KEY = '/etc/apt/keyrings/docker.asc';
export const DOCKER_APT_SOURCE = '/etc/apt/sources.list.d/docker.list';

/** How the engine is installed: engine.install, except that version "distro" always means docker.io. */
export function installMethod(plan: Pick<Plan, 'engine'>): EngineInstall {
  return plan.engine.version === 'distro' && plan.engine.install === 'apt' ? 'distro' : plan.engine.install;
}

/** Whether the engine comes from a tree on the machine running overlab (engine.source other than system), sent to the host at up. */
export function fromTree(plan: Pick<Plan, 'engine'>): boolean {
  return (plan.engine.source ?? 'system') !== 'system';
}

/** The bash lines (over sh/engine.sh) that install the engine and print `overlab: engine=VERSION`. */
export function engineSection(plan: Pick<Plan, 'engine' | 'mode'>): string {
  const version = shellQuote(plan.engine.version);
  if (fromTree(plan)) {
    return [
      `# Docker engine: ${plan.engine.version} from an engine tree (engine.source ${plan.engine.source}), sent from the machine running overlab at up;`,
      "# the host's docker.service runs it, so the host needs an engine that brings the unit (the distribution's docker.io does).",
      'prepare_engine_tree',
      'allow_login_user',
      `outcome engine ${shellQuote(`${plan.engine.version} (engine tree)`)}`,
    ].join('\n');
  }
  const mode: EngineMode = plan.mode;
  const install = (() => {
    switch (installMethod(plan)) {
      case 'apt':
        return `install_engine_apt ${version} ${mode}`;
      case 'distro':
        return `install_engine_distro ${mode}`;
      case 'preinstalled':
        return 'check_engine_preinstalled';
    }
  })();
  return [
    `# Docker engine: ${describeMethod(plan)}${mode === 'kv' ? '; kv mode refuses 23.0 and newer' : ''}`,
    install,
    'allow_login_user',
    `engine_outcome ${version} ${mode}`,
  ].join('\n');
}

function describeMethod(plan: Pick<Plan, 'engine'>): string {
  switch (installMethod(plan)) {
    case 'apt':
      return `docker-ce ${plan.engine.version} from Docker's apt repository, pinned`;
    case 'distro':
      return "the distribution's docker.io";
    case 'preinstalled':
      return 'already installed';
  }
}

/** What engineSection does, as commands, for `up --dry-run`. */
export function describeEngine(plan: Pick<Plan, 'engine' | 'mode'>): string[] {
  if (fromTree(plan)) {
    return [
      `# engine: ${plan.engine.version} from this machine's engine tree (engine.source ${plan.engine.source}); an installed engine brings docker.service`,
      'command -v dockerd || { apt-get update; apt-get install -y docker.io; }',
      `# at up: the tree, packed, over SFTP to the same path; its containerd as overlab-containerd.service; dockerd with --data-root=/var/lib/overlab/docker`,
    ];
  }
  const kvCheck = plan.mode === 'kv' ? ['# kv mode: refuse an engine of 23.0 or newer (--cluster-store was removed in 23.0)'] : [];
  switch (installMethod(plan)) {
    case 'apt': {
      const want = plan.engine.version;
      return [
        `# engine: docker-ce ${want} from Docker's apt repository, unless docker-ce ${want === 'latest' ? '' : `${want}.x `}is installed`,
        `curl -fsSL https://download.docker.com/linux/$ID/gpg -o ${DOCKER_APT_KEY}`,
        `echo "deb [arch=$ARCH signed-by=${DOCKER_APT_KEY}] https://download.docker.com/linux/$ID $CODENAME stable" > ${DOCKER_APT_SOURCE}`,
        'apt-get update',
        `V=$(newest ${want === 'latest' ? 'version' : `${want}.x`} in: apt-cache madison docker-ce)  # 5:20.10.13~3-0~ubuntu-jammy or 5:24.0.0-1~ubuntu.22.04~jammy`,
        ...kvCheck,
        'apt-get install -y docker-ce=$V docker-ce-cli=$V containerd.io',
        'apt-mark hold docker-ce docker-ce-cli',
      ];
    }
    case 'distro':
      return ["# engine: the distribution's docker.io, unless installed", ...kvCheck, 'apt-get update', 'apt-get install -y docker.io'];
    case 'preinstalled':
      return ['# engine: already installed', 'dockerd --version', ...kvCheck];
  }
}
