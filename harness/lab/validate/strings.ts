// The free strings of a lab file: each has a grammar, so no value is read as an option, a
// command or a line. (engine.flags and services[].image are checked with their sections.)
import { aliasProblem, boxProblem, commandWordProblem, hostAddressProblem, imageProblem, keyPathProblem, sshUserProblem, textProblem } from '../grammar.ts';
import type { RawLab } from '../raw-lab.ts';
import { checkGrammar as grammar, type At } from './problems.ts';

export function checkFreeStrings(raw: RawLab, at: At): void {
  grammar(at, ['description'], 'description', raw.description, textProblem);
  grammar(at, ['box'], 'box', raw.box, boxProblem);
  raw.hosts.forEach((h, i) => {
    grammar(at, ['hosts', i, 'box'], `hosts[${i}].box`, h.box, boxProblem);
    grammar(at, ['hosts', i, 'ssh', 'user'], `hosts[${i}].ssh.user`, h.ssh?.user, sshUserProblem);
    grammar(at, ['hosts', i, 'ssh', 'address'], `hosts[${i}].ssh.address`, h.ssh?.address, hostAddressProblem);
    grammar(at, ['hosts', i, 'ssh', 'key'], `hosts[${i}].ssh.key`, h.ssh?.key, keyPathProblem);
  });
  (raw.containers ?? []).forEach((c, i) => {
    grammar(at, ['containers', i, 'image'], `containers[${i}].image`, c.image, imageProblem);
    (c.aliases ?? []).forEach((a, k) => grammar(at, ['containers', i, 'aliases', k], `containers[${i}].aliases[${k}]`, a, aliasProblem));
    c.networks.forEach((e, j) => {
      if (typeof e === 'string') return;
      (e.aliases ?? []).forEach((a, k) => grammar(at, ['containers', i, 'networks', j, 'aliases', k], `containers[${i}].networks[${j}].aliases[${k}]`, a, aliasProblem));
    });
    if (typeof c.command === 'string') grammar(at, ['containers', i, 'command'], `containers[${i}].command`, c.command, commandWordProblem);
    else (c.command ?? []).forEach((w, k) => grammar(at, ['containers', i, 'command', k], `containers[${i}].command[${k}]`, w, commandWordProblem));
  });
}
