// Handouts for a room: per lab (usually one copy per student), the lines a student types, from
// the lab's plan: point the docker CLI at a host, the tutorial's commands for that lab, a shell
// on a host, the lab's own check. Markdown, and one printable HTML page (a page per lab, with
// the topology's picture when there is one). Pure.
import type { Plan } from '../lab/types.ts';
import { shellQuote } from '../quote.ts';
import { escapeHtml, inlineSvg } from './html.ts';

export interface HandoutSection {
  title: string;
  /** Prose before the commands. */
  note?: string;
  commands: string[];
}

export interface Handout {
  lab: string;
  heading: string;
  hosts: { name: string; address: string; role: string }[];
  sections: HandoutSection[];
}

/** A lab handed to a user (`up --owner`): who, and where its student runs overlab from. */
export interface HandedTo {
  /** "user alice (uid 1001)". */
  owner: string;
  /** The folder `npx overlab` runs in (the project's). */
  project: string;
  /** The labs' state folder (OVERLAB_HOME). */
  home: string;
}

/** What the student of one lab types, in order. `cli` is how they run overlab (`npx overlab`). */
export function labHandout(plan: Plan, cli = 'npx overlab', handedTo?: HandedTo): Handout {
  const lab = shellQuote(plan.lab);
  const on = (host: string) => `eval "$(${cli} env ${shellQuote(host)} --lab ${lab})"`;
  const first = plan.dockerHosts[0]!;
  const sections: HandoutSection[] = [
    ...(handedTo
      ? [
          {
            title: 'Your lab',
            note: `This lab is handed to ${handedTo.owner}: log in as that user and run everything below as yourself, without sudo. Nobody else but root can use it.`,
            commands: [`cd ${shellQuote(handedTo.project)}`, `export OVERLAB_HOME=${shellQuote(handedTo.home)}`],
          },
        ]
      : []),
    {
      title: 'Point your docker CLI at a host',
      note: `\`eval\` points the docker command of this shell at one host's engine (the docker hosts: ${plan.dockerHosts.join(', ')}); \`${cli} config HOST --lab ${plan.lab}\` prints the same as flags.`,
      commands: [on(first), 'docker info --format "{{.Name}}: {{.ServerVersion}}"', 'docker network ls'],
    },
  ];
  const overlays = plan.networks.map((n) => `docker network inspect ${shellQuote(n.name)} --format "{{.Name}} {{.Driver}} {{.Scope}} {{range .IPAM.Config}}{{.Subnet}}{{end}}"`);
  // Every block stands alone (it points the CLI at its host first): a student may start anywhere.
  if (overlays.length) sections.push({ title: 'The overlay networks', note: `Every engine of the lab sees them (${plan.mode === 'kv' ? 'through the KV store' : 'through the swarm'}).`, commands: [on(plan.dockerHosts.at(-1)!), ...overlays] });
  // One cross-host pair per network that has one: the heart of the tutorial.
  const pairs: string[] = [];
  for (const n of plan.networks) {
    const members = plan.containers.filter((c) => c.networks.some((a) => a.network === n.name));
    const a = members[0];
    const b = a && members.find((c) => c.host !== a.host);
    if (!a || !b) continue;
    pairs.push(`${on(a.host)}`, `docker exec ${shellQuote(a.name)} ping -c 2 ${shellQuote(b.name)}`, `docker exec ${shellQuote(a.name)} nslookup ${shellQuote(b.name)}`);
  }
  if (pairs.length) sections.push({ title: 'Containers on different hosts reach each other by name', commands: pairs });
  const free = plan.networks.find((n) => n.attachable || plan.mode === 'kv');
  if (free) {
    const target = plan.containers.find((c) => c.networks.some((a) => a.network === free.name) && c.host !== plan.dockerHosts.at(-1));
    if (target) {
      sections.push({
        title: 'A container of your own on the overlay',
        commands: [on(plan.dockerHosts.at(-1)!), `docker run --rm --net=${shellQuote(free.name)} overlab/busybox ping -c 2 ${shellQuote(target.name)}`],
      });
    }
  }
  if (plan.mode === 'alone') sections.push(...swarmByHand(plan, on));
  sections.push(
    { title: 'A shell on a host', commands: plan.hosts.slice(0, 2).map((h) => `${cli} ssh ${shellQuote(h.name)} --lab ${lab}`) },
    {
      title: 'Check your lab',
      note: plan.mode === 'alone' ? "The lab's specs: every engine answers, every host reaches the others." : 'The acceptance specs: reach, names, isolation, MTU, the cluster.',
      commands: [`${cli} status --lab ${lab}`, `${cli} test --lab ${lab}`],
    },
  );
  return {
    lab: plan.lab,
    heading: `Lab ${plan.lab}`,
    hosts: plan.hosts.map((h) => ({ name: h.name, address: h.address, role: h.name === plan.kv?.host ? 'KV store' : h.role === 'docker' ? (plan.mode === 'swarm' && h.name === plan.dockerHosts[0] ? 'docker (swarm manager)' : 'docker') : h.role })),
    sections,
  };
}

/**
 * Engines alone (`engine.mode: alone`): Docker's overlay tutorial, typed by the student. The
 * first docker host makes the swarm, the others join with its token; an attachable overlay,
 * a container on the manager, and one on another host that reaches it by name.
 */
function swarmByHand(plan: Plan, on: (host: string) => string): HandoutSection[] {
  const [manager, ...workers] = plan.dockerHosts as [string, ...string[]];
  const address = plan.hosts.find((h) => h.name === manager)!.address;
  const join = workers.flatMap((w) => [on(w), `docker swarm join --token "$TOKEN" ${address}:2377`]);
  const other = workers[0];
  return [
    {
      title: 'Make the swarm',
      note: `${manager} starts the swarm; ${workers.length ? `${workers.join(', ')} join${workers.length === 1 ? 's' : ''} it with its token` : 'it is the only node'}.`,
      commands: [on(manager), `docker swarm init --advertise-addr ${address}`, 'TOKEN="$(docker swarm join-token -q worker)"', ...join, on(manager), 'docker node ls'],
    },
    ...(other
      ? [
          {
            title: 'An overlay of your own across the hosts',
            note: `A container on ${manager}, and one on ${other} that reaches it by name over the overlay (the name needs a moment to spread: the ping tries a few times).`,
            commands: [
              on(manager),
              'docker network create -d overlay --attachable --subnet 10.0.4.0/24 my-net',
              'docker run -d --name c0 --net my-net overlab/busybox sleep 3600',
              on(other),
              "docker run --rm --net my-net overlab/busybox sh -c 'for i in 1 2 3 4 5; do ping -c 2 c0 && exit 0; sleep 2; done; exit 1'",
            ],
          },
        ]
      : []),
  ];
}

export function handoutMarkdown(h: Handout): string {
  const out = [`# ${h.heading}`, '', '| host | address | role |', '|---|---|---|', ...h.hosts.map((x) => `| ${x.name} | ${x.address} | ${x.role} |`), ''];
  for (const s of h.sections) {
    out.push(`## ${s.title}`, '');
    if (s.note) out.push(s.note, '');
    out.push('```sh', ...s.commands, '```', '');
  }
  return out.join('\n');
}

/** One printable page for all the handouts: a page per lab. `pictures` are SVG texts by lab. */
export function handoutHtml(handouts: Handout[], pictures: Record<string, string> = {}): string {
  const pages = handouts.map((h) => {
    const rows = h.hosts.map((x) => `<tr><td>${escapeHtml(x.name)}</td><td><code>${escapeHtml(x.address)}</code></td><td>${escapeHtml(x.role)}</td></tr>`).join('');
    const sections = h.sections
      .map((s) => `<h2>${escapeHtml(s.title)}</h2>${s.note ? `<p>${escapeHtml(s.note)}</p>` : ''}<pre>${s.commands.map(escapeHtml).join('\n')}</pre>`)
      .join('\n');
    const picture = pictures[h.lab] ? `<figure class="topology">${inlineSvg(pictures[h.lab]!)}</figure>` : '';
    return `<section class="handout" id="${escapeHtml(h.lab)}"><h1>${escapeHtml(h.heading)}</h1><table><thead><tr><th>host</th><th>address</th><th>role</th></tr></thead><tbody>${rows}</tbody></table>${picture}${sections}</section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>overlab handouts</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
.handout { page-break-after: always; max-width: 60em; margin-bottom: 3em; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .2em .6em; text-align: left; }
pre { background: #f4f4f4; padding: .6em; white-space: pre-wrap; }
figure.topology svg { max-width: 100%; height: auto; }
@media print { body { margin: 0; } pre { background: none; border: 1px solid #ccc; } }
</style></head><body>
${pages.join('\n')}
</body></html>
`;
}
