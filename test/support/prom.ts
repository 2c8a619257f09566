// A parser for the Prometheus text exposition format (0.0.4), strict enough
// to catch what a scraper would refuse: every sample in a declared family,
// histogram buckets cumulative and ascending, +Inf equal to _count.
export interface PromSample { name: string; labels: Record<string, string>; value: number }
export interface PromFamily { name: string; type: string; help: string; samples: PromSample[] }

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;

function parseValue(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (v === 'NaN') return NaN;
  const n = Number(v);
  if (v.trim() === '' || Number.isNaN(n)) throw new Error(`bad sample value '${v}'`);
  return n;
}

export function parseExposition(text: string): Map<string, PromFamily> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const fams = new Map<string, PromFamily>();
  let help = new Map<string, string>();
  const owner = (name: string): PromFamily | undefined => {
    for (const suffix of ['', '_bucket', '_sum', '_count']) {
      if (suffix && !name.endsWith(suffix)) continue;
      const f = fams.get(suffix ? name.slice(0, -suffix.length) : name);
      if (f && (suffix === '' || f.type === 'histogram' || f.type === 'summary')) return f;
    }
    return undefined;
  };
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('# HELP ')) {
      const [, , name, ...rest] = line.split(' ');
      help.set(name, rest.join(' '));
    } else if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      if (fams.has(name)) throw new Error(`family ${name} declared twice`);
      if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type)) throw new Error(`bad type ${type}`);
      fams.set(name, { name, type, help: help.get(name) ?? '', samples: [] });
    } else if (line.startsWith('#') || line === '') {
      continue;
    } else {
      const m = SAMPLE.exec(line);
      if (!m) throw new Error(`bad sample line '${line}'`);
      const labels: Record<string, string> = {};
      if (m[2]) {
        LABEL.lastIndex = 0;
        while (LABEL.lastIndex < m[2].length) {
          const l = LABEL.exec(m[2]);
          if (!l) throw new Error(`bad labels in '${line}'`);
          labels[l[1]] = l[2].replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c));
        }
      }
      const f = owner(m[1]);
      if (!f) throw new Error(`sample ${m[1]} has no declared family`);
      f.samples.push({ name: m[1], labels, value: parseValue(m[3]) });
    }
  }
  help = new Map();
  for (const f of fams.values()) if (f.type === 'histogram') checkHistogram(f);
  return fams;
}

export interface ParsedHistogram { buckets: Array<[number, number]>; sum: number; count: number }

function checkHistogram(f: PromFamily): void {
  histogramOf(f);
}

/** The buckets, sum and count of a histogram family (unlabelled), checked. */
export function histogramOf(f: PromFamily): ParsedHistogram {
  const buckets = f.samples.filter((s) => s.name === `${f.name}_bucket`).map((s): [number, number] => {
    if (s.labels.le === undefined) throw new Error(`${f.name}: bucket without le`);
    return [parseValue(s.labels.le), s.value];
  });
  const one = (suffix: string): number => {
    const s = f.samples.filter((x) => x.name === `${f.name}${suffix}`);
    if (s.length !== 1) throw new Error(`${f.name}: ${s.length} ${suffix} samples`);
    return s[0].value;
  };
  const sum = one('_sum'), count = one('_count');
  if (buckets.length === 0 || buckets[buckets.length - 1][0] !== Infinity) throw new Error(`${f.name}: no +Inf bucket`);
  for (let i = 1; i < buckets.length; i++) {
    if (!(buckets[i][0] > buckets[i - 1][0])) throw new Error(`${f.name}: le not ascending`);
    if (buckets[i][1] < buckets[i - 1][1]) throw new Error(`${f.name}: buckets not cumulative`);
  }
  if (buckets[buckets.length - 1][1] !== count) throw new Error(`${f.name}: +Inf bucket ${buckets[buckets.length - 1][1]} != count ${count}`);
  return { buckets, sum, count };
}
