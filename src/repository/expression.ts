/**
 * Element-count expressions of buffer arguments (`"size"`, `"width*height"`,
 * `"(n + 3) / 4"`): integers, scalar argument names, `+ - * /` (integer
 * division, rounding toward zero) and parentheses, evaluated exactly: in
 * numbers while every step is a safe integer, else in bigint.
 */

type Node =
  | { op: "num"; value: bigint }
  | { op: "var"; name: string }
  | { op: "+" | "-" | "*" | "/"; left: Node; right: Node };

/** A parsed length expression. */
export interface Expression {
  /** The source text, for messages. */
  readonly text: string;
  /** Argument names it reads. */
  readonly names: readonly string[];
  /**
   * Its exact value for the given scalar values (a missing one is 0): a
   * number when it is a safe integer, else a bigint. Throws RangeError on
   * division by zero.
   */
  evaluate(values: ReadonlyMap<string, number | bigint>): number | bigint;
}

const TOKEN = /\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/()]))/y;

/** Parses an expression; throws SyntaxError naming what is wrong. */
export function parseExpression(text: string): Expression {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length && text.slice(TOKEN.lastIndex).trim() !== "") {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (!match) throw new SyntaxError(`unexpected "${text.slice(at).trim()}" in "${text}"`);
    tokens.push(match[1] ?? match[2] ?? match[3]);
  }
  let next = 0;
  const fail = (): never => {
    throw new SyntaxError(next < tokens.length
      ? `unexpected "${tokens[next]}" in "${text}"` : `"${text}" ends too early`);
  };
  const factor = (): Node => {
    const token = tokens[next++];
    if (token === undefined) return fail();
    if (/^\d/.test(token)) return { op: "num", value: BigInt(token) };
    if (/^[A-Za-z_]/.test(token)) return { op: "var", name: token };
    if (token !== "(") { next--; return fail(); }
    const inner = sum();
    if (tokens[next++] !== ")") { next--; return fail(); }
    return inner;
  };
  const chain = (ops: readonly string[], operand: () => Node) => (): Node => {
    let left = operand();
    while (ops.includes(tokens[next])) {
      const op = tokens[next++] as "+" | "-" | "*" | "/";
      left = { op, left, right: operand() };
    }
    return left;
  };
  const product = chain(["*", "/"], factor);
  const sum = chain(["+", "-"], product);
  const root = sum();
  if (next !== tokens.length) fail();
  const names = [...new Set(tokens.filter((token) => /^[A-Za-z_]/.test(token)))];
  return {
    text,
    names,
    evaluate: (values) => {
      const fast = inNumbers(root, values);
      if (!Number.isNaN(fast)) return fast;
      const exact = inBigints(root, values);
      return exact >= -MAX_SAFE && exact <= MAX_SAFE ? Number(exact) : exact;
    },
  };
}

// NaN as soon as a step leaves the safe integers (the bigint way then runs).
function inNumbers(node: Node, values: ReadonlyMap<string, number | bigint>): number {
  switch (node.op) {
    case "num": return node.value <= MAX_SAFE ? Number(node.value) : NaN;
    case "var": {
      const value = values.get(node.name) ?? 0;
      return typeof value === "number" ? value : value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : NaN;
    }
    default: {
      const left = inNumbers(node.left, values);
      const right = inNumbers(node.right, values);
      let result: number;
      if (node.op === "+") result = left + right;
      else if (node.op === "-") result = left - right;
      else if (node.op === "*") result = left * right;
      else if (right === 0) throw new RangeError("division by zero");
      else result = (left - (left % right)) / right; // exact: the dividend is a multiple of right
      return Number.isSafeInteger(result) ? result : NaN;
    }
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function inBigints(node: Node, values: ReadonlyMap<string, number | bigint>): bigint {
  switch (node.op) {
    case "num": return node.value;
    case "var": return BigInt(values.get(node.name) ?? 0n);
    default: {
      const left = inBigints(node.left, values);
      const right = inBigints(node.right, values);
      if (node.op === "+") return left + right;
      if (node.op === "-") return left - right;
      if (node.op === "*") return left * right;
      if (right === 0n) throw new RangeError("division by zero");
      return left / right;
    }
  }
}
