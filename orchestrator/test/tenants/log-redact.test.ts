// What the API serves of container logs: one-time links, Berth's tokens and
// credential-named values are blanked, the rest of the line kept; the
// patterns stay linear on hostile 1 MB lines (times logged, not asserted).
import t from 'tap';
import { redactLogLine } from '../../src/tenants/log-redact.js';

t.test('credentials are blanked, the rest of the line kept', async (t) => {
  const token = 'Qx3_-Ab'.repeat(6);
  const cases: [string, string][] = [
    [`{"level":30,"method":"GET","path":"/welcome/${token}","status":200}`, '{"level":30,"method":"GET","path":"/welcome/[redacted]","status":200}'],
    [`GET /welcome/${token}/__data.json?x=1 HTTP/1.1`, 'GET /welcome/[redacted]/__data.json?x=1 HTTP/1.1'],
    [`Referer: http://acme.berth.localhost/welcome/${token}`, 'Referer: http://acme.berth.localhost/welcome/[redacted]'],
    [`Authorization: Bearer berth_0123456789ab_${token}`, 'Authorization: [redacted]'],
    [`session bsess_${token} and sign-up bsig_${token}`, 'session bsess_[redacted] and sign-up bsig_[redacted]'],
    [`{"token":"${token}","password": "hunter2hunter2","name":"x"}`, '{"token":"[redacted]","password": "[redacted]","name":"x"}'],
    ['listening on port 3000', 'listening on port 3000']
  ];
  for (const [line, want] of cases) t.equal(redactLogLine(line), want);
});

t.test('linear on hostile lines', async (t) => {
  for (const [name, line] of Object.entries({
    'token×200K': 'token'.repeat(200_000),
    'token: + 1M spaces': `token:${' '.repeat(1 << 20)}`,
    '/welcome/×100K': '/welcome/'.repeat(100_000),
    'berth_×100K': 'berth_0123456789ab'.repeat(60_000)
  })) {
    const started = performance.now();
    t.type(redactLogLine(line), 'string');
    t.comment(`${name}: ${Math.round(performance.now() - started)} ms`);
  }
});
