// JSON syntax errors in plain words, at the character they concern, and duplicate keys.
import { getLocation, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { atKey, childPointer, fieldName, toPointer, type Finding, type Range, type SourceText } from './source';

const SYNTAX_MESSAGES: Record<string, string> = {
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected a colon ':' after the property name",
  CommaExpected: 'expected a comma before this',
  CloseBraceExpected: "expected '}' to close the object",
  CloseBracketExpected: "expected ']' to close the array",
  EndOfFileExpected: 'expected the end of the file: the file holds a single JSON object',
  InvalidCommentToken: 'comments are not allowed: an experiment file is plain JSON',
  UnexpectedEndOfComment: 'unterminated comment (and comments are not allowed: an experiment file is plain JSON)',
  UnexpectedEndOfString: 'unterminated string: add the closing double quote',
  UnexpectedEndOfNumber: 'incomplete number',
  InvalidUnicode: 'invalid \\u escape: expected four hex digits',
  InvalidEscapeCharacter: 'invalid escape sequence in a string (allowed: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)',
  InvalidCharacter: 'invalid character in a string: line breaks and tabs must be written as \\n and \\t',
};

/** Deepest nesting of objects and arrays accepted; an experiment file nests about five levels. */
export const MAX_NESTING = 64;

/**
 * The first '{' or '[' nested deeper than MAX_NESTING (outside strings), as an error; the parser
 * and the checks recurse per level, so a file of ten thousand '[' would overflow the stack.
 */
export function nestingFinding(doc: SourceText): Finding | undefined {
  const text = doc.text;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */ || c === 10 || c === 13) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > MAX_NESTING) {
        const range = { offset: i, length: 1 };
        return { severity: 'error', message: `objects and arrays nested more than ${MAX_NESTING} levels deep: an experiment file nests only a few`, pointer: '', range, subject: range };
      }
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth = Math.max(0, depth - 1);
  }
  return undefined;
}

export function syntaxFindings(doc: SourceText, errors: ParseError[]): Finding[] {
  if (doc.text.trim() === '') {
    const range = { offset: 0, length: 0 };
    return [{ severity: 'error', message: 'the file is empty: an experiment is a JSON object, e.g. {"tasks": [{"dataset": "mnist"}]}', pointer: '', range, subject: range }];
  }
  const findings: Finding[] = [];
  const seenOffsets = new Set<number>();
  let lastLine = -1;
  for (const e of [...errors].sort((a, b) => a.offset - b.offset)) {
    // The parser often reports one mistake several times in a row; keep the first per line.
    if (seenOffsets.has(e.offset)) continue;
    seenOffsets.add(e.offset);
    const { message, range, inContainer } = describeSyntaxError(doc, e);
    const line = doc.position(range.offset).line;
    if (line === lastLine) continue;
    lastLine = line;
    const location = getLocation(doc.text, e.offset).path;
    while (location.length && location[location.length - 1] === '') location.pop(); // "" = a key being typed
    if (inContainer) location.pop(); // a trailing comma belongs to its object or array, not to a next item
    const pointer = toPointer(location);
    findings.push({ severity: 'error', message, pointer, range, subject: range });
  }
  return findings;
}

function describeSyntaxError(doc: SourceText, e: ParseError): { message: string; range: Range; inContainer?: boolean } {
  const code = printParseErrorCode(e.error);
  const text = doc.text;
  const range = { offset: e.offset, length: e.length };
  if (code === 'PropertyNameExpected' || code === 'ValueExpected') {
    const closer = text[e.offset];
    if (closer === '}' || closer === ']') {
      let i = e.offset - 1;
      while (i >= 0 && /\s/.test(text[i])) i--;
      if (text[i] === ',') {
        return { message: `trailing comma: remove the ',' before '${closer}'`, range: { offset: i, length: 1 }, inContainer: closer === ']' };
      }
    }
  }
  if (e.offset >= doc.contentEnd && code !== 'InvalidCommentToken' && code !== 'UnexpectedEndOfComment') {
    const what = SYNTAX_MESSAGES[code] ?? 'more input';
    return { message: `unexpected end of file: ${what}`, range: { offset: doc.contentEnd, length: 0 } };
  }
  if (code === 'InvalidSymbol') {
    const symbol = text.slice(e.offset, e.offset + e.length);
    if (symbol.startsWith("'")) return { message: 'strings and property names must be in double quotes, not single quotes', range };
    if (/^[A-Za-z_]/.test(symbol)) {
      return { message: `unexpected '${symbol}': strings and property names must be in double quotes; the only bare words are true, false and null`, range };
    }
    return { message: `unexpected character '${symbol}'`, range };
  }
  return { message: SYNTAX_MESSAGES[code] ?? `syntax error (${code})`, range };
}

/** Every key given twice in one object, at the earlier one (the parsed value keeps the last). */
export function duplicateKeyFindings(root: Node): Finding[] {
  const findings: Finding[] = [];
  const visit = (node: Node, pointer: string): void => {
    if (node.type === 'object') {
      const seen = new Set<string>();
      const props = node.children ?? [];
      for (let i = props.length - 1; i >= 0; i--) {
        const key = props[i].children?.[0]?.value;
        if (typeof key !== 'string') continue;
        if (seen.has(key)) {
          findings.push(atKey(props[i], childPointer(pointer, key), 'warning', `duplicate property '${key}' in ${fieldName(pointer)}: only the last one is used`));
        }
        seen.add(key);
      }
      for (const p of props) {
        const key = p.children?.[0]?.value;
        if (typeof key === 'string' && p.children?.[1]) visit(p.children[1], childPointer(pointer, key));
      }
    } else if (node.type === 'array') {
      (node.children ?? []).forEach((c, i) => visit(c, childPointer(pointer, i)));
    }
  };
  visit(root, '');
  return findings;
}
