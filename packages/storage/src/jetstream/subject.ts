// Partitioned subjects: a `subject` option may be a template such as `events.{tenant}`, each
// `{field}` a whole token filled from the event's top-level field. The stream listens on the
// template with each placeholder as `*`; values are made into safe tokens, and a missing one
// goes to the fallback token `_`.

/** The token an event goes to when its field is absent, empty or not a string, number or boolean. */
export const FALLBACK_TOKEN = '_'

/** Longest token a value becomes; longer values are cut (partitions are for routing, not identity). */
export const MAX_TOKEN_LENGTH = 64

const PLACEHOLDER = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/

/** A subject split in tokens: a literal token as is, a placeholder as the field it names. */
export type SubjectTemplate = readonly (string | { readonly field: string })[]

/**
 * Parses a subject; undefined when a token is not a literal nor a whole `{field}` placeholder (a
 * brace inside a token, an empty token, a wildcard, whitespace).
 */
export function parseSubject(subject: string): SubjectTemplate | undefined {
  if (subject.length === 0 || /\s/.test(subject)) return undefined
  const out: (string | { field: string })[] = []
  for (const token of subject.split('.')) {
    const m = PLACEHOLDER.exec(token)
    if (m) out.push({ field: m[1]! })
    else if (token === '' || token === '*' || token === '>' || /[{}]/.test(token)) return undefined
    else out.push(token)
  }
  return out
}

/** The subject the stream must listen on: each placeholder as `*` (one token). */
export function subjectFilterOf(t: SubjectTemplate): string {
  return t.map((x) => (typeof x === 'string' ? x : '*')).join('.')
}

/** The template with each placeholder written as the fallback token (for a derived dead-letter subject). */
export function fallbackSubjectOf(t: SubjectTemplate): string {
  return t.map((x) => (typeof x === 'string' ? x : FALLBACK_TOKEN)).join('.')
}

/** True when the literal `subject` is one the filter (literal tokens and `*`) takes. */
export function filterMatches(filter: string, subject: string): boolean {
  const f = filter.split('.')
  const s = subject.split('.')
  return f.length === s.length && f.every((t, i) => t === '*' || t === s[i])
}

/**
 * A value as one subject token: strings, finite numbers and booleans as text with every character
 * outside `A-Z a-z 0-9 _ -` replaced by `_` (so no `.`, `*`, `>` or whitespace reaches the
 * subject), cut to MAX_TOKEN_LENGTH; anything else, or an empty string, as FALLBACK_TOKEN.
 */
export function tokenOf(value: unknown): string {
  let text: string
  if (typeof value === 'string') text = value
  else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') text = String(value)
  else return FALLBACK_TOKEN
  if (text.length === 0) return FALLBACK_TOKEN
  return text.slice(0, MAX_TOKEN_LENGTH).replace(/[^A-Za-z0-9_-]/g, '_')
}

/** The subject one event is published on. */
export function subjectFor(t: SubjectTemplate, event: Record<string, unknown>): string {
  return t.map((x) => (typeof x === 'string' ? x : tokenOf(Object.hasOwn(event, x.field) ? event[x.field] : undefined))).join('.')
}
