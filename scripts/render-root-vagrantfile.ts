// Rewrites the repository's root Vagrantfile from labs/tutorial.yaml (kept equal by specs/unit/vagrantfile.spec.ts).
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadLab } from '../harness/lab/load.ts';
import { planLab } from '../harness/lab/plan.ts';
import { renderVagrantfile } from '../harness/render/vagrantfile.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = 'labs/tutorial.yaml';
const text = renderVagrantfile(planLab(await loadLab(`${root}${source}`)), { source });
await writeFile(`${root}Vagrantfile`, text);
