// What the pages overlab writes (handouts, the room, the matrix) share: text escaped for HTML,
// and Graphviz's SVG made fit to sit inside a page.

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Inline SVG from Graphviz without its XML prologue and doctype, safe to embed in a page. */
export function inlineSvg(svg: string): string {
  const at = svg.indexOf('<svg');
  return at < 0 ? '' : svg.slice(at);
}
