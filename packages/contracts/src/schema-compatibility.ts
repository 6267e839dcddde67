/**
 * Whether a reader built for `published` can still read every event written under `proposed`.
 * A published event never changes shape: adding optional fields is fine; removing or retyping a
 * field, making a field required, or narrowing what a value may be is not.
 */
export function compatibilityProblems(published: unknown, proposed: unknown, path = ''): string[] {
  const a = (published ?? {}) as Record<string, unknown>;
  const b = (proposed ?? {}) as Record<string, unknown>;
  const here = path || '/';
  const problems: string[] = [];

  for (const keyword of ['type', 'const', 'enum', 'pattern', 'format']) {
    if (JSON.stringify(a[keyword]) !== JSON.stringify(b[keyword])) {
      problems.push(
        `${here}: ${keyword} changed from ${JSON.stringify(a[keyword])} to ${JSON.stringify(b[keyword])}`,
      );
    }
  }
  const narrowedIf = (keyword: string, narrower: (x: number, y: number) => boolean) => {
    const before = a[keyword];
    const after = b[keyword];
    if (typeof after === 'number' && (typeof before !== 'number' || narrower(after, before))) {
      problems.push(`${here}: ${keyword} narrowed from ${String(before)} to ${after}`);
    }
  };
  narrowedIf('minLength', (x, y) => x > y);
  narrowedIf('minimum', (x, y) => x > y);
  narrowedIf('maxLength', (x, y) => x < y);
  narrowedIf('maximum', (x, y) => x < y);

  const requiredBefore = new Set((a.required as string[] | undefined) ?? []);
  for (const name of (b.required as string[] | undefined) ?? []) {
    if (!requiredBefore.has(name)) problems.push(`${here}: ${name} became required`);
  }

  const propsBefore = (a.properties ?? {}) as Record<string, unknown>;
  const propsAfter = (b.properties ?? {}) as Record<string, unknown>;
  for (const [name, schema] of Object.entries(propsBefore)) {
    if (!(name in propsAfter)) problems.push(`${here}: ${name} was removed`);
    else problems.push(...compatibilityProblems(schema, propsAfter[name], `${path}/${name}`));
  }

  const variantsBefore = (a.anyOf ?? a.oneOf) as unknown[] | undefined;
  const variantsAfter = (b.anyOf ?? b.oneOf) as unknown[] | undefined;
  if (variantsBefore || variantsAfter) {
    const after = new Set((variantsAfter ?? []).map((v) => JSON.stringify(v)));
    for (const variant of variantsBefore ?? []) {
      if (!after.has(JSON.stringify(variant)))
        problems.push(`${here}: variant ${JSON.stringify(variant)} was removed`);
    }
  }
  if (a.items !== undefined || b.items !== undefined) {
    problems.push(...compatibilityProblems(a.items, b.items, `${path}/items`));
  }
  return problems;
}
