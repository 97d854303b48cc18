/**
 * The words FastAPI accepts for a boolean, which API.md adopts for the query string and which
 * the environment variables use too, so an operator and a caller spell booleans the same way.
 */
const TRUE_WORDS = ["true", "1", "yes", "on"] as const;
const FALSE_WORDS = ["false", "0", "no", "off"] as const;

const BOOLEAN_WORDS: readonly string[] = [...TRUE_WORDS, ...FALSE_WORDS];

/** Returns the boolean a word spells, case-insensitively, or undefined when it spells none. */
export function parseBooleanWord(word: string): boolean | undefined {
  const lower = word.toLowerCase();
  if ((TRUE_WORDS as readonly string[]).includes(lower)) return true;
  if ((FALSE_WORDS as readonly string[]).includes(lower)) return false;
  return undefined;
}

/**
 * A JSON-schema pattern matching exactly the boolean words in any letter case. JSON schema
 * patterns have no case-insensitive flag, so each letter becomes a two-letter class.
 */
export const BOOLEAN_WORD_PATTERN = `^(${BOOLEAN_WORDS.map((word) =>
  [...word].map((ch) => (/[a-z]/.test(ch) ? `[${ch}${ch.toUpperCase()}]` : ch)).join(""),
).join("|")})$`;
