// The probe lists both security files run: what an attacker's app must reach
// (its own services: the controls) and what it must not (another team's
// services, by name and by every address Docker gave them).
import type { Test } from 'tap';
import { SERVICE_PORTS, type TeamFacts } from './fixtures.js';
import { blocked, logProbes, probeFrom, type Probe } from './probes.js';

/** The attacker's own db and storage, by alias and by address: these must connect. */
export function ownServiceProbes(own: TeamFacts): Probe[] {
  const probes: Probe[] = [];
  for (const service of ['db', 'storage']) {
    const port = SERVICE_PORTS[service]!;
    probes.push({ kind: 'dns', label: `control: own ${service} alias resolves`, name: service });
    probes.push({ kind: 'tcp', label: `control: own ${service} by alias`, host: service, port });
    for (const [network, ip] of Object.entries(own.services[service]!.addresses)) {
      probes.push({ kind: 'tcp', label: `control: own ${service} by address on ${network}`, host: ip, port });
    }
  }
  return probes;
}

/** Every container of `victim`: its name in DNS, and its service port at each of its addresses. */
export function victimProbes(victim: TeamFacts): Probe[] {
  const probes: Probe[] = [];
  for (const [service, c] of Object.entries(victim.services)) {
    const port = SERVICE_PORTS[service] ?? 80;
    probes.push({ kind: 'dns', label: `victim ${service}: container name`, name: c.name });
    probes.push({ kind: 'tcp', label: `victim ${service}: by container name`, host: c.name, port });
    for (const [network, ip] of Object.entries(c.addresses)) {
      probes.push({ kind: 'tcp', label: `victim ${service}: address on ${network}`, host: ip, port });
    }
  }
  return probes;
}

/**
 * From `from` (a container), `container`'s aliases db and storage resolve to
 * exactly the addresses of `team`'s own db and storage, and db answers.
 */
export async function resolvesOwnServices(t: Test, from: string, team: TeamFacts, who: string): Promise<void> {
  const probes: Probe[] = [
    { kind: 'dns', label: `${who}: db resolves`, name: 'db' },
    { kind: 'dns', label: `${who}: storage resolves`, name: 'storage' },
    { kind: 'tcp', label: `${who}: db by alias`, host: 'db', port: SERVICE_PORTS.db! },
    { kind: 'tcp', label: `${who}: storage by alias`, host: 'storage', port: SERVICE_PORTS.storage! }
  ];
  const { results } = await probeFrom(from, probes);
  logProbes(t, `from ${from}`, probes, results);
  for (const [i, service] of ['db', 'storage'].entries()) {
    const own = Object.values(team.services[service]!.addresses).sort();
    t.equal(results[i]!.result, 'resolved', `${who}: "${service}" resolves`);
    t.ok(results[i]!.addresses?.length && results[i]!.addresses!.every((a) => own.includes(a)),
      `${who}: "${service}" resolves only to its own ${service} (${own.join(',')}), got ${results[i]!.addresses?.join(',') ?? results[i]!.result}`);
    t.equal(results[i + 2]!.result, 'connected', `${who}: "${service}" answers`);
  }
}

/** Runs controls and attacks from `from` in one go; the controls must connect, the attacks must all fail. */
export async function expectIsolated(t: Test, from: string, controls: Probe[], attacks: Probe[]): Promise<void> {
  const { uid, results } = await probeFrom(from, [...controls, ...attacks]);
  t.not(uid, 0, `the probes ran as the app's own user (uid ${uid}), not root`);
  logProbes(t, `from ${from} (uid ${uid}), controls`, controls, results.slice(0, controls.length));
  logProbes(t, `from ${from} (uid ${uid}), attacks`, attacks, results.slice(controls.length));
  controls.forEach((p, i) => {
    const r = results[i]!;
    t.ok(!blocked(r), `${p.label}: ${r.result}`);
  });
  attacks.forEach((p, i) => {
    const r = results[controls.length + i]!;
    t.ok(blocked(r), `${p.label}: ${r.result}${r.addresses ? ` ${r.addresses.join(',')}` : ''}`);
  });
}
