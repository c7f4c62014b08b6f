// A lab file as the schema leaves it: checked for shape, before validate.ts applies the
// defaults and cross-checks that make it a Lab.
import type { EngineSource, Lab } from './types.ts';

/** The shape the schema guarantees, before defaults. */
export interface RawLab {
  name: string;
  description?: string;
  provider?: Lab['provider'];
  box?: string;
  network?: { subnet?: string };
  hosts: {
    name: string;
    address?: string;
    role?: 'kv' | 'docker';
    box?: string;
    cpus?: number;
    memory?: number;
    ssh?: { address?: string; user?: string; port?: number; key?: string; hostKey?: string };
  }[];
  kv?: { type?: Lab['kv']['type']; fallback?: Lab['kv']['type']; host?: string; port?: number };
  engine?: { version?: string; mode?: Lab['engine']['mode']; install?: Lab['engine']['install']; advertisePort?: number; source?: EngineSource; suite?: string; sha256?: string; flags?: string[] };
  networks?: { name: string; subnet: string; gateway?: string; internal?: boolean; encrypted?: boolean; attachable?: boolean }[];
  services?: {
    name: string;
    image?: string;
    replicas?: number;
    networks: string[];
    endpointMode?: 'vip' | 'dnsrr';
    port?: number;
    publish?: { published: number; mode?: 'ingress' | 'host' }[];
    placement?: string[];
  }[];
  containers?: {
    name: string;
    host: string;
    image?: string;
    networks: (string | { name: string; aliases?: string[]; address?: string })[];
    aliases?: string[];
    command?: string | string[];
  }[];
  specs?: { pairs?: string; files?: string[] };
  matrix?: { engines?: string[]; kv?: Lab['kv']['type'][]; modes?: Lab['engine']['mode'][] };
  expect?: string[];
}
