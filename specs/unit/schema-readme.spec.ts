// The lab file reference (docs/lab-file.md) lists exactly the keys of labs/lab.schema.json
// (which harness/lab/schema.ts validates against), section by section.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { labSchema } from '../../harness/lab/schema.ts';

type SchemaNode = { properties?: Record<string, SchemaNode>; $ref?: string; items?: SchemaNode; type?: string };
const schema = labSchema as SchemaNode & { definitions: Record<string, SchemaNode> };
const reference = readFileSync(new URL('../../docs/lab-file.md', import.meta.url), 'utf8');

function resolve(node: SchemaNode): SchemaNode {
  return node.$ref ? schema.definitions[node.$ref.replace('#/definitions/', '')]! : node;
}

/** Keys of a mapping, with the keys of nested mappings written `outer.inner` (as the reference does). */
function keysOf(node: SchemaNode, flattenAll: boolean): string[] {
  return Object.entries(resolve(node).properties ?? {}).flatMap(([k, v]) => {
    const r = resolve(v);
    const nested = r.properties && (flattenAll || Object.keys(r.properties).length === 1);
    return nested ? Object.keys(r.properties!).map((i) => `${k}.${i}`) : [k];
  });
}

/** The first-column keys of the table under a heading of the reference. */
function tableKeys(heading: string): string[] {
  const start = reference.indexOf(`\n${heading}\n`);
  expect(start, heading).to.be.above(0);
  const section = reference.slice(start + heading.length + 2).split('\n## ')[0]!;
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
}

describe('docs/lab-file.md, the lab file reference', () => {
  const sections: [string, SchemaNode, boolean][] = [
    ['## Top level', schema, false],
    ['## `hosts[]`', schema.properties!['hosts']!.items!, true],
    ['## `kv`', schema.properties!['kv']!, true],
    ['## `engine`', schema.properties!['engine']!, true],
    ['## `networks[]`', schema.properties!['networks']!.items!, true],
    ['## `containers[]`', schema.properties!['containers']!.items!, true],
    // publish[] is a list of mappings: one row, like networks under containers[].
    ['## `services[]`', schema.properties!['services']!.items!, false],
  ];
  for (const [heading, node, flattenAll] of sections) {
    it(`${heading.replace('## ', '')} lists every key of the schema, and no other`, () => {
      expect(tableKeys(heading).sort()).to.deep.equal(keysOf(node, flattenAll).sort());
    });
  }
});
