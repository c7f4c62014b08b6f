// What `status` asks an engine (version, networks, a container), read-only. A local socket is
// read with node:http, which costs nothing to load; an engine forwarded over SSH goes through
// dockerode (loaded only then). Keeps `overlab status` on a netns lab quick to start.
import { request } from 'node:http';
import type { EngineEndpoint } from '../host.ts';

export interface EngineNetwork {
  Name: string;
  Driver: string;
  Scope: string;
}

export interface EngineContainer {
  State: { Status: string };
  NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
}

export interface EngineReader {
  version(): Promise<string>;
  networks(): Promise<EngineNetwork[]>;
  container(name: string): Promise<EngineContainer>;
  release(): void;
}

/** GET `path` from the engine API on a unix socket; rejects on a status other than 2xx. */
export function socketGet<T>(socketPath: string, path: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', headers: { host: 'docker' }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`engine API ${path}: HTTP ${res.statusCode}: ${body.trim()}`));
        else {
          try {
            resolve(JSON.parse(body) as T);
          } catch (e) {
            reject(e as Error);
          }
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`engine API ${path}: no answer in ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}

export async function engineReader(endpoint: EngineEndpoint): Promise<EngineReader> {
  if (endpoint.kind === 'socket') {
    const get = <T>(path: string) => socketGet<T>(endpoint.socketPath, path);
    return {
      version: async () => (await get<{ Version: string }>('/version')).Version,
      networks: () => get<EngineNetwork[]>('/networks'),
      container: (name) => get<EngineContainer>(`/containers/${encodeURIComponent(name)}/json`),
      release: () => {},
    };
  }
  const { engineClient, releaseEngine } = await import('./client.ts');
  const docker = engineClient(endpoint);
  return {
    version: async () => ((await docker.version()) as { Version: string }).Version,
    networks: async () => (await docker.listNetworks()) as EngineNetwork[],
    container: async (name) => (await docker.getContainer(name).inspect()) as unknown as EngineContainer,
    release: () => releaseEngine(docker),
  };
}
