import { describe, expect, it } from "vitest";
import { BOOLEAN_WORD_PATTERN, parseBooleanWord } from "../../src/config/boolean-words.js";

describe("boolean words", () => {
  it.each([
    ["true", true],
    ["TrUe", true],
    ["1", true],
    ["YES", true],
    ["on", true],
    ["false", false],
    ["0", false],
    ["No", false],
    ["oFF", false],
  ])("reads %s as %s, and the schema pattern accepts it", (word, value) => {
    expect(parseBooleanWord(word)).toBe(value);
    expect(new RegExp(BOOLEAN_WORD_PATTERN).test(word)).toBe(true);
  });

  it.each(["", "t", "y", "2", "truee", " true", "null"])("rejects %j", (word) => {
    expect(parseBooleanWord(word)).toBeUndefined();
    expect(new RegExp(BOOLEAN_WORD_PATTERN).test(word)).toBe(false);
  });
});
