// The onboarding's pure pieces: naming advice, the MIME reading of the sink,
// client addresses behind the console, and its configuration's validation.
import t from 'tap';
import type { FastifyRequest } from 'fastify';
import { loadConfig } from '../../src/config/config.js';
import { clientIp } from '../../src/api/client-address.js';
import { parseMail } from '../../src/onboarding/mail-parse.js';
import { alternatives, slugAdvice, suggestSlug } from '../../src/onboarding/slug-advice.js';
import { assertValidSlug } from '../../src/contract/reserved.js';

t.test('a suggested slug is always one TenantsService accepts (or a reserved word it explains)', async (t) => {
  const cases: Record<string, string> = {
    'Acme Corp': 'acme-corp', 'Café Zürich': 'cafe-zurich', '42 Labs': 'team-42-labs', '': 'team', 'AB': 'ab-team', '!!!': 'team',
    'A very long team name that goes on and on forever': 'a-very-long-team-name-that-goes'
  };
  for (const [name, slug] of Object.entries(cases)) {
    t.equal(suggestSlug(name), slug, JSON.stringify(name));
    t.doesNotThrow(() => assertValidSlug(slug), `${slug} is valid`);
  }
  t.same([...alternatives('acme')].slice(0, 2), ['acme-2', 'acme-3']);
  t.equal([...alternatives('a-very-long-team-name-that-goes')][0], 'a-very-long-team-name-that-goe-2', 'cut to fit 32 characters');
  t.equal([...alternatives('admin')][0], 'admin-team');
  t.equal(slugAdvice('fine-name'), undefined);
});

t.test('the sink reads what nodemailer writes: encoded subjects, quoted-printable text', async (t) => {
  const raw = ['From: Berth <a@b.c>', 'To: x@y.z', 'Subject: =?UTF-8?Q?Caf=C3=A9_code?=', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', 'Your code:=20', '', '    123456', 'Gr=C3=BC=C3=9Fe'].join('\r\n');
  t.match(parseMail(raw), { subject: 'Café code', from: 'Berth <a@b.c>', to: 'x@y.z', text: /Your code: \n\n {4}123456\nGrüße/ });
});

t.test('X-Forwarded-For counts only from a trusted proxy, and then only its own hop', async (t) => {
  const req = (remoteAddress: string, xff?: string) => ({ socket: { remoteAddress }, ip: remoteAddress, headers: xff ? { 'x-forwarded-for': xff } : {} }) as unknown as FastifyRequest;
  t.equal(clientIp(req('127.0.0.1', '203.0.113.5'), ['127.0.0.1']), '203.0.113.5', 'the console says whom for');
  t.equal(clientIp(req('127.0.0.1', '6.6.6.6, 203.0.113.5'), ['127.0.0.1']), '203.0.113.5', 'a client-written hop is ignored');
  t.equal(clientIp(req('198.51.100.9', '203.0.113.5'), ['127.0.0.1']), '198.51.100.9', 'anyone else cannot pick an address');
});

t.test('bad onboarding settings fail loudly at boot, saying what to write', async (t) => {
  t.throws(() => loadConfig({ BERTH_ONBOARDING_SMTP_URL: 'http://mail.example.com' }), { code: 'CONFIG_INVALID', message: /smtp:\/\/user:pass@host:587/ });
  t.throws(() => loadConfig({ BERTH_ONBOARDING_ENABLED: 'yes' }), { code: 'CONFIG_INVALID', message: /true or false/ });
  t.throws(() => loadConfig({ BERTH_ONBOARDING_CODE_ATTEMPTS: '0' }), { code: 'CONFIG_INVALID', message: /BERTH_ONBOARDING_CODE_ATTEMPTS must be an integer from 1/ });
  t.match(loadConfig({ BERTH_ONBOARDING_SMTP_URL: 'smtps://u:p@mail.example.com:465' }).onboarding, { smtpUrl: 'smtps://u:p@mail.example.com:465', code: { ttlMs: 600_000, attempts: 5 } });
});
