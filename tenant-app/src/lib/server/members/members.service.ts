// Members: the owner (made at start from OWNER_EMAIL), invitations, the
// one-time link that sets a password, sign-in checks, removal.
import { config } from '../config';
import { AppError } from '../errors';
import { log } from '../log';
import { sendMail } from '../mail/mailer';
import { takeInvitation } from './invite-limit';
import { randomId, randomToken, sha256 } from '../tokens';
import { membersRepository as repo } from './members.repository';
import { toMember, type Member, type MemberDoc } from './members.types';
import { cleanEmail, cleanName, cleanPassword, EMAIL_MAX } from './members.validate';
import { assertNotThrottled, clearAccount, countFailure } from './signin-throttle';
import { PASSWORD_MAX } from './passwords';
import { decoyHash, hashPassword, verifyPassword } from './passwords';
import { sessionsService } from '../sessions/sessions.service';

function linkFor(origin: string, token: string): string {
  return `${config().publicUrl ?? origin}/welcome/${token}`;
}

/**
 * At start: the owner exists once OWNER_EMAIL is set. The setup link's token
 * is OWNER_SETUP_TOKEN when the platform chose it (so the onboarding wizard can
 * show the link), else a fresh one that is only mailed; it stops working at
 * OWNER_SETUP_EXPIRES_AT. While the owner has not chosen a password, a
 * different OWNER_SETUP_TOKEN (an operator issued a new link, and the platform
 * restarted the app with it) re-arms the owner with it, which ends the old
 * link. Once the owner is active, a restart changes nothing.
 */
export async function ensureOwner(): Promise<void> {
  const owner = config().owner;
  if (!owner) return;
  const existing = await repo.owner();
  if (existing) return rearmOwner(existing, owner);
  const token = owner.setupToken ?? randomToken();
  const doc: MemberDoc = {
    _id: randomId(), email: owner.email, name: owner.email.split('@')[0] ?? 'owner', role: 'owner', status: 'pending',
    passwordHash: null, tokenHash: sha256(token), tokenExpiresAt: owner.setupExpiresAt ?? null, invitedBy: null, createdAt: new Date()
  };
  try {
    await repo.insert(doc);
  } catch (err) {
    if ((err as { code?: number }).code === 11000) return; // another instance made it first
    throw err;
  }
  log().info({ member: doc._id }, 'owner created');
  await mailOwnerLink(owner.email, token, owner.setupExpiresAt);
}

async function rearmOwner(existing: MemberDoc, owner: NonNullable<ReturnType<typeof config>['owner']>): Promise<void> {
  if (existing.status !== 'pending' || !owner.setupToken) return;
  const tokenHash = sha256(owner.setupToken);
  const expiresAt = owner.setupExpiresAt ?? null;
  if (existing.tokenHash === tokenHash && existing.tokenExpiresAt?.getTime() === expiresAt?.getTime()) return;
  if (!(await repo.rearm(existing._id, tokenHash, expiresAt))) return;
  log().info({ member: existing._id, expiresAt }, 'owner setup link replaced');
  if (existing.tokenHash !== tokenHash) await mailOwnerLink(owner.email, owner.setupToken, owner.setupExpiresAt);
}

async function mailOwnerLink(email: string, token: string, expiresAt: Date | undefined): Promise<void> {
  const { smtp, publicUrl } = config();
  if (smtp && publicUrl) {
    await sendMail({
      to: email,
      subject: 'Your team workspace is ready',
      text: `Set your password to start using your team's workspace:\n\n${linkFor(publicUrl, token)}\n\nThis link works once${expiresAt ? ` and until ${expiresAt.toUTCString()}` : ''}.`
    }).catch((err: Error) => log().warn({ error: err.message }, 'owner setup mail not sent'));
  }
}

export interface Invitation {
  member: Member;
  /** Shown to the owner only when no mail could be sent (no SMTP configured). */
  link: string | undefined;
}

export async function invite(by: Member, rawEmail: unknown, origin: string): Promise<Invitation> {
  if (by.role !== 'owner') throw new AppError('FORBIDDEN', 'only the owner invites members');
  const email = cleanEmail(rawEmail);
  if (await repo.byEmail(email)) throw new AppError('CONFLICT', 'already a member', { email: 'this address is already a member or invited' });
  await takeInvitation();
  const token = randomToken();
  const doc: MemberDoc = {
    _id: randomId(), email, name: email.split('@')[0] ?? email, role: 'member', status: 'pending', passwordHash: null,
    tokenHash: sha256(token), tokenExpiresAt: new Date(Date.now() + config().inviteTtlMs), invitedBy: by.id, createdAt: new Date()
  };
  await repo.insert(doc);
  const link = linkFor(origin, token);
  if (!config().smtp) return { member: toMember(doc), link };
  try {
    await sendMail({
      to: email,
      subject: `${by.name} invited you to their team workspace`,
      text: `${by.name} (${by.email}) invited you to their team's workspace.\n\nChoose a password to join:\n\n${link}\n\nThis link works once and expires in ${Math.round(config().inviteTtlMs / 3_600_000)} hours.`
    });
  } catch (err) {
    await repo.remove(doc._id);
    throw new AppError('MAIL_FAILED', `the invitation could not be mailed: ${(err as Error).message}`);
  }
  return { member: toMember(doc), link: undefined };
}

/** The pending member a one-time link belongs to, or NOT_FOUND when it is used, expired, replaced or made up. */
export async function memberForLink(token: string): Promise<MemberDoc> {
  // Tokens are 43 characters; anything far longer is not one (and is not hashed).
  const doc = token.length <= 128 ? await repo.byTokenHash(sha256(token)) : null;
  if (!doc || doc.status !== 'pending' || (doc.tokenExpiresAt && doc.tokenExpiresAt.getTime() < Date.now())) {
    const who = doc?.role === 'owner'
      ? 'ask the platform\'s operators for a new setup link'
      : doc ? 'ask the team\'s owner for a new invitation' : 'ask whoever gave it to you for a new one (the team\'s owner for an invitation, the platform\'s operators for the owner\'s own link)';
    throw new AppError('NOT_FOUND', `this link was already used, has expired or was replaced: ${who}`);
  }
  return doc;
}

export async function acceptLink(token: string, rawName: unknown, rawPassword: unknown): Promise<Member> {
  const fields: Record<string, string> = {};
  let name = '';
  let password = '';
  try { name = cleanName(rawName); } catch (err) { Object.assign(fields, (err as AppError).fields); }
  try { password = cleanPassword(rawPassword); } catch (err) { Object.assign(fields, (err as AppError).fields); }
  if (Object.keys(fields).length > 0) throw new AppError('VALIDATION', 'check the fields below', fields);
  const pending = await memberForLink(token);
  const activated = await repo.activate(pending._id, pending.tokenHash ?? '', name, await hashPassword(password));
  if (!activated) throw new AppError('NOT_FOUND', 'this link was already used');
  log().info({ member: activated._id }, 'member activated');
  return toMember(activated);
}

/**
 * The same answer, and about the same time, whether or not the email is
 * known; throttled per account and per client address (`address`, its limit
 * key) with backoff, 429 once either is locked.
 */
export async function checkCredentials(rawEmail: unknown, rawPassword: unknown, address: string): Promise<Member> {
  const email = typeof rawEmail === 'string' && rawEmail.length <= EMAIL_MAX + 64 ? rawEmail.trim().toLowerCase() : null;
  const password = typeof rawPassword === 'string' ? rawPassword : '';
  if (email === null || email.length > EMAIL_MAX) throw new AppError('VALIDATION', 'check the email address', { email: `enter the address you were invited with (at most ${EMAIL_MAX} characters)` });
  if (password.length > PASSWORD_MAX) throw new AppError('VALIDATION', 'check the password', { password: `passwords here have at most ${PASSWORD_MAX} characters` });
  await assertNotThrottled(email, address);
  const doc = email ? await repo.byEmail(email) : null;
  const ok = await verifyPassword(password, doc?.passwordHash ?? (await decoyHash()));
  if (!doc || !doc.passwordHash || doc.status !== 'active' || !ok) {
    await countFailure(email, address);
    throw new AppError('UNAUTHENTICATED', 'wrong email or password');
  }
  await clearAccount(email);
  return toMember(doc);
}

export async function listMembers(): Promise<Member[]> {
  return (await repo.list()).map(toMember);
}

export async function removeMember(by: Member, id: string): Promise<void> {
  if (by.role !== 'owner') throw new AppError('FORBIDDEN', 'only the owner removes members');
  if (id === by.id) throw new AppError('VALIDATION', 'the owner cannot remove themselves');
  if (!(await repo.remove(id))) throw new AppError('NOT_FOUND', 'no such member');
  await sessionsService.endAllFor(id);
}

export async function memberById(id: string): Promise<Member | null> {
  const doc = await repo.byId(id);
  return doc && doc.status === 'active' ? toMember(doc) : null;
}
