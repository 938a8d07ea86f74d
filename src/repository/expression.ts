/**
 * Element-count expressions of buffer arguments (`"size"`, `"width*height"`,
 * `"(n + 3) / 4"`): integers, scalar argument names, `+ - * /` (integer
 * division, rounding toward zero) and parentheses, evaluated exactly in bigint.
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
  /** Its value for the given scalar values; throws RangeError on division by zero. */
  evaluate(values: ReadonlyMap<string, bigint>): bigint;
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
  return { text, names, evaluate: (values) => evaluate(root, values) };
}

function evaluate(node: Node, values: ReadonlyMap<string, bigint>): bigint {
  switch (node.op) {
    case "num": return node.value;
    case "var": return values.get(node.name) ?? 0n;
    default: {
      const left = evaluate(node.left, values);
      const right = evaluate(node.right, values);
      if (node.op === "+") return left + right;
      if (node.op === "-") return left - right;
      if (node.op === "*") return left * right;
      if (right === 0n) throw new RangeError("division by zero");
      return left / right;
    }
  }
}
