// SSH key pairs overlab makes for a lab (ed25519, no passphrase), once per lab.
import { existsSync } from 'node:fs';

/**
 * Makes the ed25519 key pair at `path` unless it is there, and returns its public key line
 * (`ssh-ed25519 BASE64`), read from the private key itself: a .pub file could be stale or gone.
 */
export async function ensureKeyPair(path: string, comment: string, signal?: AbortSignal): Promise<string> {
  const { execa } = await import('execa'); // loaded on use: most commands make no key
  if (!existsSync(path)) await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], signal ? { cancelSignal: signal } : {});
  return (await execa('ssh-keygen', ['-y', '-f', path], signal ? { cancelSignal: signal } : {})).stdout.trim();
}
