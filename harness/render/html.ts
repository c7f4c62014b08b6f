// What the pages overlab writes (handouts, the room, the matrix) share: text escaped for HTML,
// and Graphviz's SVG made fit to sit inside a page.

/** Text, a number or a flag as HTML text or an attribute value (quoted with "): nothing in it is markup. */
export function escapeHtml(value: string | number | boolean): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** The elements Graphviz writes in SVG; anything else (script, foreignObject, style, HTML) is not a drawing of it. */
const SVG_ELEMENTS = new Set(['svg', 'g', 'title', 'desc', 'polygon', 'polyline', 'ellipse', 'circle', 'rect', 'line', 'path', 'text', 'tspan', 'a', 'defs', 'linearGradient', 'radialGradient', 'stop', 'clipPath']);

/**
 * Whether an SVG holds only a drawing: Graphviz's elements and comments, no event handler, no
 * link or source out of the picture (href, src), no `javascript:`.
 */
export function isInertSvg(svg: string): boolean {
  for (const m of svg.matchAll(/<(\/?)([^\s/>]*)/g)) {
    const name = m[2]!;
    if (m[1] === '' && name.startsWith('!--')) continue;
    if (!SVG_ELEMENTS.has(name)) return false;
  }
  for (const tag of svg.matchAll(/<[^>]*>/g)) {
    const t = tag[0];
    if (t.startsWith('<!--')) continue;
    if (/\son[a-z]+\s*=/i.test(t) || /javascript\s*:/i.test(t)) return false;
    if (/\s(?:[a-z]+:)?(?:href|src)\s*=\s*["']?(?!#)/i.test(t)) return false;
  }
  return true;
}

/** Inline SVG from Graphviz without its XML prologue and doctype, safe to embed in a page; one that is not inert (isInertSvg) is left out. */
export function inlineSvg(svg: string): string {
  const at = svg.indexOf('<svg');
  if (at < 0) return '';
  const body = svg.slice(at);
  return isInertSvg(body) ? body : '';
}
