// Quoting an argv for the two command languages overlab writes: a POSIX shell (remote command
// lines, generated scripts, --dry-run output) and a systemd Exec= line. One place, so every
// quoting rule is the same everywhere and unit-tested once.

/** One word for a POSIX shell: bare when it is made of safe characters, else single-quoted. */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/**
 * One word of a systemd command line (ExecStart=): bare when plain, else double-quoted with C
 * escapes. `%` (specifiers) and `$` (variables) are doubled in either form.
 */
export function systemdQuote(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}

export function systemdJoin(argv: readonly string[]): string {
  return argv.map(systemdQuote).join(' ');
}
