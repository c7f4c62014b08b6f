// network.subnet: the hosts' private network, a private IPv4 range.
import { parseCidr, type Cidr } from '../ipv4.ts';
import { privateRangeProblem } from '../grammar.ts';
import type { RawLab } from '../raw-lab.ts';
import { DEFAULT_SUBNET } from './defaults.ts';
import type { At } from './problems.ts';

/** The subnet as written (or the default), and parsed when it is a private range. */
export function readSubnet(raw: RawLab, at: At): { text: string; subnet: Cidr | undefined } {
  const text = raw.network?.subnet ?? DEFAULT_SUBNET;
  const parsed = parseCidr(text);
  if (typeof parsed === 'string') {
    at(['network', 'subnet'], `network.subnet: ${parsed}`);
    return { text, subnet: undefined };
  }
  const notPrivate = privateRangeProblem(parsed);
  if (notPrivate) at(['network', 'subnet'], `network.subnet ${notPrivate}`);
  return { text, subnet: notPrivate ? undefined : parsed };
}
