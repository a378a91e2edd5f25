// How many mails each team sent in the last hour: a sliding window of send
// times per team, in memory (a restart forgives the hour; the limit is a
// brake on abuse, not an invoice). At most `limit` entries per team.
const HOUR_MS = 3_600_000;

export class HourlyQuota {
  private readonly sent = new Map<string, number[]>();

  constructor(private readonly limit: number, private readonly now: () => number = Date.now) {}

  /** Takes one unit for `key`, or answers how many seconds until one frees up. */
  take(key: string): { ok: true } | { ok: false; retryAfterS: number } {
    const now = this.now();
    const recent = (this.sent.get(key) ?? []).filter((at) => at > now - HOUR_MS);
    if (recent.length >= this.limit) {
      this.sent.set(key, recent);
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((recent[0]! + HOUR_MS - now) / 1000)) };
    }
    recent.push(now);
    this.sent.set(key, recent);
    return { ok: true };
  }
}
