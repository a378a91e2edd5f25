// The key the per-email limits count under, so that one mailbox cannot pass
// for many: case folded, a "+tag" dropped from the local part (nearly every
// provider delivers name+anything to name), and dots dropped only at Gmail,
// the one large provider known to ignore them (folding dots everywhere would
// merge distinct people elsewhere). Used only for counting: mail goes to the
// address as typed.
const DOTLESS = new Map([['gmail.com', 'gmail.com'], ['googlemail.com', 'gmail.com']]);

export function emailLimitKey(email: string): string {
  const address = email.slice(0, 320).trim().toLowerCase();
  const at = address.lastIndexOf('@');
  if (at <= 0) return address;
  let local = address.slice(0, at);
  let domain = address.slice(at + 1);
  const plus = local.indexOf('+');
  if (plus > 0) local = local.slice(0, plus);
  const dotless = DOTLESS.get(domain);
  if (dotless) {
    local = local.replaceAll('.', '');
    domain = dotless;
  }
  return `${local}@${domain}`;
}
