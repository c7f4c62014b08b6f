// Counts in messages agree in number: "1 network", "2 networks", "1 process", "3 processes".
// One helper, so no message says "1 networks".

/** `singular` or its plural, as `n` needs; the plural is regular (s, or es after s x z ch sh) unless given. */
export function plural(n: number, singular: string, pluralForm?: string): string {
  if (n === 1) return singular;
  return pluralForm ?? (/(s|x|z|ch|sh)$/.test(singular) ? `${singular}es` : `${singular}s`);
}

/** `n` and the noun in the number `n` needs: count(1, 'network') is "1 network". */
export function count(n: number, singular: string, pluralForm?: string): string {
  return `${n} ${plural(n, singular, pluralForm)}`;
}
