// No slug can produce another tenant's or the platform's object names: every
// template rendered for thousands of random valid slug pairs (and crafted ones
// built to collide: suffixes such as -edge, -db, -app, prefixes of each
// other, platform names) gives disjoint sets of container, network and volume
// names. The same check on the old dash scheme finds collisions, so the check
// can fail.
import t from 'tap';
import path from 'node:path';
import { ROOT_DIR } from '../../src/config/config.js';
import { names, PLATFORM_NAME, TEMPLATE_PART } from '../../src/names.js';
import { renderStack, type StackSpec } from '../../src/stacks/render.js';
import { loadTemplates, parseTemplate } from '../../src/stacks/template-loader.js';
import type { LoadedTemplate } from '../../src/stacks/template.schema.js';
import { slugProblem } from '../../src/contract/slug.js';

const PAIRS = 4000;
const seed = Number(process.env.BERTH_PROPERTY_SEED ?? Date.now() % 2 ** 31);
t.comment(`seed ${seed} (BERTH_PROPERTY_SEED repeats a run)`);

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function generator(s: number): () => number {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}
const random = generator(seed);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

// Words that are also service, volume and network parts, so that random
// slugs often end or begin with them.
const WORDS = ['x', 'ab', 'edge', 'db', 'app', 'b', 'data', 'db-data', 'storage', 'internal', 'platform', 'net', 'test', 'berth', 'migrate-from'];

function randomSlug(): string {
  for (;;) {
    const parts = [pick([...'abcdefghijklmnopqrstuvwxyz'])];
    const n = 1 + Math.floor(random() * 4);
    for (let i = 0; i < n; i++) parts.push(random() < 0.6 ? `-${pick(WORDS)}` : pick(['a', 'b', '0', '9', 'z', 'ab', 'x1']));
    const slug = parts.join('').slice(0, 32);
    if (!slugProblem(slug)) return slug;
  }
}

/** A slug and another made from it: a suffix added, a prefix taken, or a part moved across the dash. */
function relatedSlug(slug: string): string {
  const options = [
    `${slug}-${pick(WORDS)}`,
    `${pick(WORDS)}-${slug}`.replace(/^[^a-z]+/, ''),
    slug.slice(0, 3 + Math.floor(random() * Math.max(1, slug.length - 3))),
    slug.replace(/-[^-]*$/, '')
  ];
  const candidate = pick(options).slice(0, 32);
  return slugProblem(candidate) || candidate === slug ? randomSlug() : candidate;
}

const CRAFTED: [string, string][] = [
  ['demo', 'demo-edge'],
  ['demo', 'demo-db'],
  ['demo', 'demo-app'],
  ['demo', 'demo-storage'],
  ['demo-db', 'demo-db-data'],
  ['acme', 'acme-app-b'],
  ['xyz', 'xyz-edge'],
  ['xyz-edge', 'xyz-edge-edge'],
  ['platform', 'platform-db'],
  ['platform', 'platform-db-net'],
  ['platform-db', 'platform-db-data'],
  ['test-db', 'test-db-x1'],
  ['abc', 'abc-internal'],
  ['abc', 'abc-migrate-from']
];

/** Services and volumes named to collide with the fixed parts: edge, internal, b, migrate-from, x-db. */
const crafted = parseTemplate(`
x-berth:
  version: 1
  route: { service: edge, port: 3000 }
  default_plan: p
  plans:
    p:
      limits:
        edge: { memory: 64m, cpus: 0.1, pids: 32 }
        internal: { memory: 64m, cpus: 0.1, pids: 32 }
        b: { memory: 64m, cpus: 0.1, pids: 32 }
        x-db: { memory: 64m, cpus: 0.1, pids: 32 }
        migrate-from: { memory: 64m, cpus: 0.1, pids: 32 }
services:
  edge: { image: img, volumes: ["internal:/data"], x-berth: { probe: { http: { path: / } } } }
  internal: { image: img, volumes: ["edge:/data"], x-berth: { probe: { exec: [x] } } }
  b: { image: img, volumes: ["b:/data"], x-berth: { probe: { exec: [x] } } }
  x-db: { image: img, volumes: ["x-db:/data", "data:/more"], x-berth: { probe: { exec: [x] } } }
  migrate-from: { image: img, x-berth: { probe: { exec: [x] } } }
volumes:
  internal: {}
  edge: {}
  b: {}
  x-db: {}
  data: {}
`, 'crafted.yaml');

const templates: LoadedTemplate[] = [...(await loadTemplates(path.join(ROOT_DIR, 'templates'))).values(), crafted];

interface NameSets {
  container: Set<string>;
  network: Set<string>;
  volume: Set<string>;
}

const render = (loaded: LoadedTemplate, slug: string, slot: 'a' | 'b'): StackSpec =>
  renderStack(loaded, {
    slug,
    appVersion: '1.0.0',
    images: { app: 'app', db: 'db', storage: 'storage' },
    secrets: Object.fromEntries((loaded.template['x-berth'].secrets ?? []).map((s) => [s, 'x'])),
    slot
  });

/** Every object Berth would make for this slug, from every template, in both slots, with the migration helpers. */
function objectsOf(slug: string): NameSets {
  const sets: NameSets = { container: new Set(), network: new Set(), volume: new Set() };
  for (const loaded of templates) {
    const a = render(loaded, slug, 'a');
    const b = render(loaded, slug, 'b');
    const containers = [
      ...a.services.map((s) => s.container.name),
      b.services.find((s) => s.name === b.route.service)!.container.name,
      ...a.legacy.volumes.flatMap((v) => [names.migrationHelper(slug, v.volume, 'from'), names.migrationHelper(slug, v.volume, 'to')])
    ];
    // Within one tenant no two containers may share a name either.
    if (new Set(containers).size !== containers.length) throw new Error(`${slug} (${loaded.name}): two containers share a name: ${containers.join(' ')}`);
    for (const c of containers) sets.container.add(c);
    for (const n of a.networks) sets.network.add(n.name);
    for (const v of a.volumes) sets.volume.add(v.name);
  }
  return sets;
}

const PLATFORM = ((): NameSets => {
  const all = ['berth-platform-db', 'berth-test-db-iso-a1b2c3', 'berth-test-db-platform-db'].map(names.platformDb);
  return {
    container: new Set(all.map((p) => p.container)),
    network: new Set(all.map((p) => p.network)),
    volume: new Set(all.map((p) => p.volume))
  };
})();

function overlap(a: NameSets, b: NameSets): string[] {
  const found: string[] = [];
  for (const kind of ['container', 'network', 'volume'] as const) {
    for (const name of a[kind]) if (b[kind].has(name)) found.push(`${kind} ${name}`);
  }
  return found;
}

t.test('template parts and platform names never contain the separator', async (t) => {
  for (const loaded of templates) {
    for (const name of [...Object.keys(loaded.template.services), ...Object.keys(loaded.template.volumes ?? {})]) {
      t.ok(TEMPLATE_PART.test(name) && !name.includes('.'), `${loaded.name}: ${name}`);
    }
  }
  for (const kind of ['container', 'network', 'volume'] as const) {
    for (const name of PLATFORM[kind]) t.ok(PLATFORM_NAME.test(name.replace(/-(net|data)$/, '')) && !name.includes('.'), `platform ${kind} ${name} has no dot`);
  }
  t.notOk(PLATFORM_NAME.test('berth.demo.db'), 'a dotted platform name is refused (BERTH_PLATFORM_DB_CONTAINER is checked with it)');
});

t.test('crafted slug pairs render disjoint names, from each other and from the platform', async (t) => {
  for (const [a, b] of CRAFTED) {
    t.notOk(slugProblem(a) ?? slugProblem(b), `${a} and ${b} are valid slugs`);
    t.same(overlap(objectsOf(a), objectsOf(b)), [], `${a} / ${b}`);
    t.same(overlap(objectsOf(a), PLATFORM), [], `${a} / platform`);
  }
});

t.test(`${PAIRS} random slug pairs (half of them related by prefix or suffix) render disjoint names`, async (t) => {
  const cache = new Map<string, NameSets>();
  const of = (slug: string) => cache.get(slug) ?? (cache.set(slug, objectsOf(slug)), cache.get(slug)!);
  let compared = 0;
  const failures: string[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const a = randomSlug();
    const b = i % 2 === 0 ? relatedSlug(a) : randomSlug();
    if (a === b) continue;
    const shared = [...overlap(of(a), of(b)), ...overlap(of(a), PLATFORM)];
    if (shared.length > 0) failures.push(`${a} / ${b}: ${shared.join(', ')}`);
    compared++;
  }
  t.ok(compared > PAIRS * 0.95, `${compared} pairs compared`);
  t.same(failures.slice(0, 10), [], `no shared names in ${compared} pairs`);
});

t.test('control: the old dash scheme fails the same check', async (t) => {
  const legacy = (slug: string): NameSets => ({
    container: new Set(['db', 'storage', 'app'].map((s) => names.legacy.container(slug, s))),
    network: new Set([names.legacy.internalNetwork(slug), names.legacy.edgeNetwork(slug)]),
    volume: new Set(['db-data', 'storage-data'].map((v) => names.legacy.volume(slug, v)))
  });
  t.same(overlap(legacy('demo'), legacy('demo-edge')), ['network berth-demo-edge'], 'demo-edge\'s internal network was demo\'s edge network');
  t.same(overlap(legacy('platform-db-net'), PLATFORM), ['network berth-platform-db-net'], 'platform-db-net landed on the platform database\'s network');
  t.same(overlap(objectsOf('demo'), objectsOf('demo-edge')), [], 'and the new names of the same pair do not meet');
});
