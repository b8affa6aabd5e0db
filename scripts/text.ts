/** What the scripts print: counts as English ("1 rule", "2 rules"). */
export function counted(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

/** A list's label and items: "rule east", "rules east, west". */
export function labelled(
  singular: string,
  items: readonly string[],
  plural = `${singular}s`,
): string {
  return `${items.length === 1 ? singular : plural} ${items.join(', ')}`;
}
