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
import { cleanEmail, cleanName, cleanPassword } from './members.validate';
import { decoyHash, hashPassword, verifyPassword } from './passwords';
import { sessionsService } from '../sessions/sessions.service';

function linkFor(origin: string, token: string): string {
  return `${config().publicUrl ?? origin}/welcome/${token}`;
}

/**
 * At start: the owner exists once OWNER_EMAIL is set. The setup link's token
 * is OWNER_SETUP_TOKEN when the platform chose it (so the onboarding wizard can
 * show the link), else a fresh one that is only mailed. Never re-armed: once
 * an owner exists, a restart changes nothing.
 */
export async function ensureOwner(): Promise<void> {
  const owner = config().owner;
  if (!owner || (await repo.owner())) return;
  const token = owner.setupToken ?? randomToken();
  const doc: MemberDoc = {
    _id: randomId(), email: owner.email, name: owner.email.split('@')[0] ?? 'owner', role: 'owner', status: 'pending',
    passwordHash: null, tokenHash: sha256(token), tokenExpiresAt: null, invitedBy: null, createdAt: new Date()
  };
  try {
    await repo.insert(doc);
  } catch (err) {
    if ((err as { code?: number }).code === 11000) return; // another instance made it first
    throw err;
  }
  log().info({ member: doc._id }, 'owner created');
  const { smtp, publicUrl } = config();
  if (smtp && publicUrl) {
    await sendMail({
      to: owner.email,
      subject: 'Your team workspace is ready',
      text: `Set your password to start using your team's workspace:\n\n${linkFor(publicUrl, token)}\n\nThis link works once.`
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

/** The pending member a one-time link belongs to, or NOT_FOUND when it is used, expired or made up. */
export async function memberForLink(token: string): Promise<MemberDoc> {
  const doc = await repo.byTokenHash(sha256(token));
  if (!doc || doc.status !== 'pending' || (doc.tokenExpiresAt && doc.tokenExpiresAt.getTime() < Date.now())) {
    throw new AppError('NOT_FOUND', 'this link was already used or has expired: ask the owner for a new invitation');
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

/** The same answer, and about the same time, whether or not the email is known. */
export async function checkCredentials(rawEmail: unknown, rawPassword: unknown): Promise<Member> {
  const email = typeof rawEmail === 'string' ? rawEmail.trim().toLowerCase() : '';
  const password = typeof rawPassword === 'string' ? rawPassword : '';
  const doc = email ? await repo.byEmail(email) : null;
  const ok = await verifyPassword(password, doc?.passwordHash ?? (await decoyHash()));
  if (!doc || !doc.passwordHash || doc.status !== 'active' || !ok) throw new AppError('UNAUTHENTICATED', 'wrong email or password');
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
