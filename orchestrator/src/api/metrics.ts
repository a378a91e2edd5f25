// Prometheus text exposition, by hand: a few counters and summaries do not
// need a client library. Gauges, and counters kept elsewhere (nginx's), are
// read at scrape time from their sources.

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

export class Metrics {
  private readonly counters = new Map<string, { help: string; series: Series }>();
  private readonly summaries = new Map<string, { help: string; sum: Series; count: Series }>();
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
    return `${out.join('\n')}\n`;
  }
}
