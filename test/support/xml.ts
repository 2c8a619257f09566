// A strict little XML parser for tests (no dependency): well-formedness
// (one root, balanced tags, quoted unique attributes, known entities) and a
// tree to query. Enough for the SVG shim6ctl report writes.
export interface XmlElement { name: string; attrs: Record<string, string>; children: XmlElement[]; text: string }

const NAME = '[A-Za-z_:][-A-Za-z0-9_:.]*';
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

function unescape(s: string, where: string): string {
  if (/&/.test(s.replace(ENTITY, ''))) throw new Error(`bare '&' in ${where}`);
  return s.replace(ENTITY, (e) => ({ '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" } as Record<string, string>)[e]
    ?? String.fromCodePoint(e.startsWith('&#x') ? parseInt(e.slice(3, -1), 16) : parseInt(e.slice(2, -1), 10)));
}

export function parseXml(src: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const tagRe = new RegExp(`^<(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"<]*"|'[^'<]*'))*)\\s*(/?)>`);
  const attrRe = new RegExp(`(${NAME})\\s*=\\s*(?:"([^"<]*)"|'([^'<]*)')`, 'g');
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const text = src.slice(i, lt < 0 ? src.length : lt);
    if (text.trim()) {
      if (!stack.length) throw new Error(`text outside the root element at ${i}`);
      stack[stack.length - 1].text += unescape(text, `text at ${i}`);
    }
    if (lt < 0) break;
    i = lt;
    const rest = src.slice(i);
    if (rest.startsWith('<?')) {
      const end = src.indexOf('?>', i);
      if (end < 0 || root || stack.length) throw new Error(`bad processing instruction at ${i}`);
      i = end + 2;
    } else if (rest.startsWith('<!--')) {
      const end = src.indexOf('-->', i);
      if (end < 0) throw new Error(`unterminated comment at ${i}`);
      i = end + 3;
    } else if (rest.startsWith('</')) {
      const m = new RegExp(`^</(${NAME})\\s*>`).exec(rest);
      const top = stack.pop();
      if (!m || !top || top.name !== m[1]) throw new Error(`mismatched end tag at ${i}: ${m?.[1]} (open: ${top?.name})`);
      i += m[0].length;
    } else {
      const m = tagRe.exec(rest);
      if (!m) throw new Error(`malformed tag at ${i}: ${rest.slice(0, 40)}`);
      const el: XmlElement = { name: m[1], attrs: {}, children: [], text: '' };
      for (const a of m[2].matchAll(attrRe)) {
        if (a[1] in el.attrs) throw new Error(`duplicate attribute ${a[1]} at ${i}`);
        el.attrs[a[1]] = unescape(a[2] ?? a[3], `attribute ${a[1]} at ${i}`);
      }
      if (stack.length) stack[stack.length - 1].children.push(el);
      else if (root) throw new Error(`second root element at ${i}`);
      else root = el;
      if (!m[3]) stack.push(el);
      i += m[0].length;
    }
  }
  if (stack.length) throw new Error(`unclosed element ${stack[stack.length - 1].name}`);
  if (!root) throw new Error('no root element');
  return root;
}

/** Every element of the tree, depth first. */
export function* walk(e: XmlElement): Generator<XmlElement> {
  yield e;
  for (const c of e.children) yield* walk(c);
}
