// Prometheus text exposition, by hand: a few counters, summaries and
// histograms do not need a client library. Gauges, and counters kept
// elsewhere (nginx's), are read at scrape time from their sources.

type LabelSet = Record<string, string>;

function key(labels: LabelSet): string {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');
}

class Series {
  readonly values = new Map<string, number>();
  add(labels: LabelSet, by: number): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
}

/**
 * A histogram with fixed buckets, as the text format wants it: per label set
 * the cumulative count at or below each bound (`le`), `+Inf` (= `_count`), and
 * `_sum` (https://prometheus.io/docs/instrumenting/exposition_formats/).
 */
export class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();

  constructor(readonly help: string, readonly buckets: readonly number[]) {
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
      throw new Error('histogram buckets must be finite and strictly increasing');
    }
  }

  observe(labels: LabelSet, value: number): void {
    const k = key(labels);
    const s = this.series.get(k) ?? { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
    this.series.set(k, s);
    // Cumulative: a value counts in its own bucket and in every larger one.
    this.buckets.forEach((bound, i) => {
      if (value <= bound) s.counts[i]!++;
    });
    s.sum += value;
    s.count++;
  }

  lines(name: string): string[] {
    const out: string[] = [];
    const join = (labels: string, extra: string) => `{${[labels, extra].filter(Boolean).join(',')}}`;
    for (const [labels, s] of this.series) {
      this.buckets.forEach((bound, i) => out.push(`${name}_bucket${join(labels, `le="${bound}"`)} ${s.counts[i]}`));
      out.push(`${name}_bucket${join(labels, 'le="+Inf"')} ${s.count}`);
      out.push(`${name}_sum${labels ? `{${labels}}` : ''} ${s.sum}`);
      out.push(`${name}_count${labels ? `{${labels}}` : ''} ${s.count}`);
    }
    return out;
  }
}

export class Metrics {
  private readonly counters = new Map<string, { help: string; series: Series }>();
  private readonly summaries = new Map<string, { help: string; sum: Series; count: Series }>();
  private readonly histograms = new Map<string, Histogram>();
  private readonly gauges: { name: string; help: string; type: 'gauge' | 'counter'; read: () => Promise<[LabelSet, number][]> }[] = [];

  inc(name: string, help: string, labels: LabelSet = {}, by = 1): void {
    let c = this.counters.get(name);
    if (!c) this.counters.set(name, (c = { help, series: new Series() }));
    c.series.add(labels, by);
  }

  observe(name: string, help: string, labels: LabelSet, value: number): void {
    let s = this.summaries.get(name);
    if (!s) this.summaries.set(name, (s = { help, sum: new Series(), count: new Series() }));
    s.sum.add(labels, value);
    s.count.add(labels, 1);
  }

  /** The histogram of that name, made with these buckets the first time (in seconds, for durations). */
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    let h = this.histograms.get(name);
    if (!h) this.histograms.set(name, (h = new Histogram(help, buckets)));
    return h;
  }

  gauge(name: string, help: string, read: () => Promise<[LabelSet, number][]>): void {
    this.gauges.push({ name, help, type: 'gauge', read });
  }

  /** A counter another module keeps (it must never go down), read at scrape time. */
  counterFrom(name: string, help: string, read: () => Promise<[LabelSet, number][]>): void {
    this.gauges.push({ name, help, type: 'counter', read });
  }

  async render(): Promise<string> {
    const out: string[] = [];
    const line = (name: string, labels: string, value: number) => out.push(`${name}${labels ? `{${labels}}` : ''} ${value}`);
    for (const g of this.gauges) {
      out.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} ${g.type}`);
      for (const [labels, value] of await g.read()) line(g.name, key(labels), value);
    }
    for (const [name, c] of this.counters) {
      out.push(`# HELP ${name} ${c.help}`, `# TYPE ${name} counter`);
      for (const [labels, value] of c.series.values) line(name, labels, value);
    }
    for (const [name, s] of this.summaries) {
      out.push(`# HELP ${name} ${s.help}`, `# TYPE ${name} summary`);
      for (const [labels, value] of s.sum.values) line(`${name}_sum`, labels, value);
      for (const [labels, value] of s.count.values) line(`${name}_count`, labels, value);
    }
    for (const [name, h] of this.histograms) {
      out.push(`# HELP ${name} ${h.help}`, `# TYPE ${name} histogram`, ...h.lines(name));
    }
    return `${out.join('\n')}\n`;
  }
}
