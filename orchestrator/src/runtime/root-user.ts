/**
 * Root by name or by id (0, 00, …), or no user at all (Docker runs a container
 * without one as root); a group alone does not drop root's powers. A user
 * name is looked up in the image's /etc/passwd, which Berth cannot read, so
 * templates may give only numeric ids (template.schema.ts).
 */
export function isRootUser(user: string): boolean {
  const name = user.split(':')[0] ?? '';
  return name === '' || name === 'root' || /^0+$/.test(name);
}
