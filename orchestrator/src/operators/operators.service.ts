// Operators: the first one from the bootstrap command, the others made by an
// operator; each enrols through a one-time setup link (TOTP secret shown as a
// QR code, then a password and a first code); operators can disable and reset
// one another. Setup tokens are 256 random bits, only their SHA-256 is stored,
// they work once and for 24 h.
import { createHash, randomBytes } from 'node:crypto';
import QRCode from 'qrcode';
import { isEmail } from '../formats.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { BerthError } from '../errors.js';
import { operatorView, type OperatorDoc } from './operator.types.js';
import type { OperatorView, SetupStartReply } from './operators.schema.js';
import type { OperatorsRepository } from './operators.repository.js';
import { assertStrongPassword, hashPassword } from './passwords.js';
import type { SessionsService } from './sessions.service.js';
import type { SignInFailuresRepository } from './sign-in-failures.repository.js';
import type { Totp } from './totp.js';

export const SETUP_TTL_MS = 24 * 60 * 60 * 1000;

export interface OperatorsDeps {
  repo: OperatorsRepository;
  sessions: SessionsService;
  /** Failed sign-ins per address: a reset or a new enrolment starts them over. */
  failures: SignInFailuresRepository;
  box: SecretBox;
  totp: Totp;
  clock: () => Date;
  /** Base of setup links: `${consoleUrl}/setup/<token>`. */
  consoleUrl: string;
}

const sha256hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

export class OperatorsService {
  constructor(private readonly d: OperatorsDeps) {}

  /** The first operator, pending, with its setup link; refused once any operator exists. */
  async bootstrap(input: { email: string; name: string }): Promise<{ operator: OperatorView; setupUrl: string }> {
    if ((await this.d.repo.count()) > 0) {
      throw new BerthError('OPERATOR_EXISTS', 'an operator already exists; sign in to the console and add operators there');
    }
    return this.create(input, 'bootstrap');
  }

  async create(input: { email: string; name: string }, createdBy: string): Promise<{ operator: OperatorView; setupUrl: string }> {
    const email = normalizeEmail(input.email);
    const name = input.name.trim();
    if (!isEmail(email)) throw new BerthError('VALIDATION_FAILED', 'body.email must be an email address', { field: 'email' });
    if (name.length < 1 || name.length > 100) throw new BerthError('VALIDATION_FAILED', 'body.name must be 1-100 characters', { field: 'name' });
    const { token, hash, expiresAt } = this.newSetupToken();
    const doc: OperatorDoc = {
      _id: randomBytes(8).toString('hex'),
      email,
      name,
      status: 'pending',
      setupTokenHash: hash,
      setupExpiresAt: expiresAt,
      createdAt: this.d.clock(),
      createdBy
    };
    await this.d.repo.insert(doc);
    return { operator: operatorView(doc, this.d.clock()), setupUrl: this.setupUrl(token) };
  }

  async list(): Promise<OperatorView[]> {
    const now = this.d.clock();
    return (await this.d.repo.list()).map((doc) => operatorView(doc, now));
  }

  async get(id: string): Promise<OperatorView> {
    return operatorView(await this.d.repo.mustGet(id), this.d.clock());
  }

  /** Disabled operators cannot sign in, and every session of theirs ends now. Idempotent. */
  async disable(id: string, by: string | undefined): Promise<OperatorView> {
    if (id === by) throw new BerthError('OPERATOR_CONFLICT', 'you cannot disable yourself; ask another operator');
    await this.d.repo.mustGet(id);
    const doc = await this.d.repo.update(id, {}, { $set: { status: 'disabled' }, $unset: { setupTokenHash: '', setupExpiresAt: '' } });
    await this.d.sessions.deleteAll(id);
    return operatorView(doc!, this.d.clock());
  }

  /** Back to pending with a new setup link: password, TOTP secret and sessions gone. Also how a disabled operator comes back. */
  async reset(id: string): Promise<{ operator: OperatorView; setupUrl: string }> {
    const before = await this.d.repo.mustGet(id);
    const { token, hash, expiresAt } = this.newSetupToken();
    const doc = await this.d.repo.update(id, {}, {
      $set: { status: 'pending', setupTokenHash: hash, setupExpiresAt: expiresAt },
      $unset: { passwordHash: '', totpSecret: '', lastTotpStep: '', lockedUntil: '' }
    });
    await this.d.sessions.deleteAll(id);
    await this.d.failures.clear(before.email);
    return { operator: operatorView(doc!, this.d.clock()), setupUrl: this.setupUrl(token) };
  }

  /** Shows the TOTP secret to enrol: made on the first call, the same one on later calls with the same link. */
  async setupStart(token: string): Promise<SetupStartReply> {
    let doc = await this.pendingBySetupToken(token);
    if (!doc.totpSecret) {
      const sealed = this.d.box.seal({ secret: this.d.totp.generateSecret() }, doc._id);
      // Only if still none: two tabs opening the link at once end up with the same secret.
      await this.d.repo.update(doc._id, { totpSecret: { $exists: false } }, { $set: { totpSecret: sealed } });
      doc = await this.pendingBySetupToken(token);
    }
    const secret = this.secretOf(doc);
    const otpauthUrl = this.d.totp.otpauthUrl(doc.email, secret);
    const qrSvg = await QRCode.toString(otpauthUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { email: doc.email, name: doc.name, totpSecret: secret, otpauthUrl, qrSvg };
  }

  /** Checks a first code against the secret being enrolled, sets the password, activates, burns the link. */
  async setupFinish(input: { token: string; password: string; code: string }): Promise<OperatorView> {
    const doc = await this.pendingBySetupToken(input.token);
    if (!doc.totpSecret) throw new BerthError('SETUP_TOKEN_INVALID', 'open the setup link first (setup/start) to get the authenticator secret');
    assertStrongPassword(input.password, doc.email);
    const step = this.d.totp.verify(input.code, this.secretOf(doc));
    if (step === null) throw new BerthError('TOTP_INVALID', 'the code does not match; check the authenticator app and the device clock, then try the current code', { field: 'code' });
    const passwordHash = await hashPassword(input.password);
    const done = await this.d.repo.update(doc._id, { setupTokenHash: doc.setupTokenHash, status: 'pending' }, {
      $set: { status: 'active', passwordHash, lastTotpStep: step },
      $unset: { setupTokenHash: '', setupExpiresAt: '', lockedUntil: '' }
    });
    if (!done) throw new BerthError('SETUP_TOKEN_INVALID', 'this setup link was used or replaced meanwhile; ask an operator for a new one');
    await this.d.failures.clear(done.email);
    return operatorView(done, this.d.clock());
  }

  /** The operator's TOTP secret in clear (sign-in checks codes against it). */
  secretOf(doc: OperatorDoc): string {
    if (!doc.totpSecret) throw new BerthError('INTERNAL', `operator ${doc._id} has no TOTP secret`);
    return this.d.box.open<{ secret: string }>(doc.totpSecret, doc._id).secret;
  }

  private async pendingBySetupToken(token: string): Promise<OperatorDoc> {
    const doc = typeof token === 'string' && token.length >= 22 ? await this.d.repo.bySetupToken(sha256hex(token), this.d.clock()) : null;
    if (!doc) throw new BerthError('SETUP_TOKEN_INVALID', 'this setup link is unknown, already used or expired (links last 24 hours); ask an operator to reset you for a new one');
    return doc;
  }

  private newSetupToken(): { token: string; hash: string; expiresAt: Date } {
    const token = randomBytes(32).toString('base64url');
    return { token, hash: sha256hex(token), expiresAt: new Date(this.d.clock().getTime() + SETUP_TTL_MS) };
  }

  private setupUrl(token: string): string {
    return `${this.d.consoleUrl.replace(/\/+$/, '')}/setup/${token}`;
  }
}
