// The relay's pure parts: the header rewrite that makes every team's mail
// leave as the platform's sender, and the hourly quota, on an injected clock.
import t from 'tap';
import { rewriteHeaders } from '../../src/mail-relay/headers.js';
import { HourlyQuota } from '../../src/mail-relay/hourly-quota.js';

const FROM = 'Berth <no-reply@berth.test>';

t.test('From and Sender are replaced (folded lines too), the team is named, the rest is kept', async (t) => {
  const raw = Buffer.from(
    'Subject: hi\r\nFrom: "CEO"\r\n <ceo@bank.example>\r\nSender: x@y\r\nx-berth-team: other-team\r\nReply-To: owner@acme.test\r\n\r\nFrom: in the body stays\r\n'
  );
  const out = rewriteHeaders(raw, FROM, 'acme').toString('latin1');
  t.equal(out, 'From: Berth <no-reply@berth.test>\r\nX-Berth-Team: acme\r\nSubject: hi\r\nReply-To: owner@acme.test\r\n\r\nFrom: in the body stays\r\n');
});

t.test('a header value cannot smuggle a line break into the new headers', async (t) => {
  const out = rewriteHeaders(Buffer.from('Subject: x\n\nbody'), 'A <a@b>\r\nBcc: victim@example.com', 'acme').toString('latin1');
  t.notMatch(out, /^Bcc:/m);
  t.match(out, /^From: A <a@b> Bcc: victim@example.com\r$/m);
});

t.test('a message with no body, or with bytes that are not UTF-8, keeps every byte', async (t) => {
  t.equal(rewriteHeaders(Buffer.from('From: a@b\r\nSubject: s'), FROM, 'acme').toString('latin1'), 'From: Berth <no-reply@berth.test>\r\nX-Berth-Team: acme\r\nSubject: s\r\n\r\n');
  const binary = Buffer.concat([Buffer.from('Subject: s\r\n\r\n'), Buffer.from([0xff, 0xfe, 0x00, 0x80])]);
  t.same([...rewriteHeaders(binary, FROM, 'acme').subarray(-4)], [0xff, 0xfe, 0x00, 0x80]);
});

t.test('the quota allows N per key per sliding hour and says when the next frees up', async (t) => {
  let now = 1_000_000;
  const quota = new HourlyQuota(2, () => now);
  t.same(quota.take('a'), { ok: true });
  now += 10 * 60_000;
  t.same(quota.take('a'), { ok: true });
  t.same(quota.take('a'), { ok: false, retryAfterS: 50 * 60 }, 'the first send frees up an hour after it');
  t.same(quota.take('b'), { ok: true }, 'another key has its own');
  now += 50 * 60_000 + 1;
  t.same(quota.take('a'), { ok: true }, 'an hour after the first, one is free again');
  t.same(quota.take('a'), { ok: false, retryAfterS: 600 });
});
