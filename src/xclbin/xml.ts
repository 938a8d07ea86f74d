// A small, strict XML reader for the xclbin's EMBEDDED_METADATA: elements
// and attributes only (text, comments, processing instructions and CDATA
// are skipped). No DTDs and no external entities, so hostile input cannot
// make it fetch or expand anything; depth and element count are bounded.

/** One XML element. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
}

/** Thrown for malformed XML; the caller turns it into BITSTREAM_INVALID. */
export class XmlError extends Error {}

const MAX_DEPTH = 64;
const MAX_ELEMENTS = 200_000;
const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const SPACE = /[ \t\r\n]*/y;
const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decode(raw: string, at: number): string {
  return raw.replace(/&([^;&]*);?/g, (whole, body: string) => {
    if (!whole.endsWith(";")) throw new XmlError(`unterminated entity near offset ${at}`);
    if (body in ENTITIES) return ENTITIES[body];
    const code = /^#x[0-9A-Fa-f]{1,6}$/.test(body) ? parseInt(body.slice(2), 16)
      : /^#[0-9]{1,7}$/.test(body) ? parseInt(body.slice(1), 10) : NaN;
    if (!(code >= 0 && code <= 0x10ffff)) throw new XmlError(`unknown entity &${body}; near offset ${at}`);
    return String.fromCodePoint(code);
  });
}

class Parser {
  private pos = 0;
  private elements = 0;

  constructor(private readonly text: string) {}

  private fail(why: string): never {
    throw new XmlError(`${why} at offset ${this.pos}`);
  }

  private skipSpace(): void {
    SPACE.lastIndex = this.pos;
    SPACE.exec(this.text);
    this.pos = SPACE.lastIndex;
  }

  private name(): string {
    NAME.lastIndex = this.pos;
    const match = NAME.exec(this.text);
    if (!match) this.fail("expected a name");
    this.pos = NAME.lastIndex;
    return match[0];
  }

  private skipPast(end: string): void {
    const at = this.text.indexOf(end, this.pos);
    if (at < 0) this.fail(`missing "${end}"`);
    this.pos = at + end.length;
  }

  /** Skips comments, processing instructions, CDATA and text up to the next tag. */
  private skipMisc(): void {
    for (;;) {
      const lt = this.text.indexOf("<", this.pos);
      this.pos = lt < 0 ? this.text.length : lt;
      if (this.text.startsWith("<!--", this.pos)) this.skipPast("-->");
      else if (this.text.startsWith("<?", this.pos)) this.skipPast("?>");
      else if (this.text.startsWith("<![CDATA[", this.pos)) this.skipPast("]]>");
      else if (this.text.startsWith("<!", this.pos)) this.fail("DTDs are not accepted");
      else return;
    }
  }

  private element(depth: number): XmlElement {
    if (depth > MAX_DEPTH) this.fail("elements nested too deep");
    if (++this.elements > MAX_ELEMENTS) this.fail("too many elements");
    this.pos += 1; // "<"
    const element: XmlElement = { name: this.name(), attributes: Object.create(null) as Record<string, string>, children: [] };
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      if (this.text.startsWith("/>", this.pos)) {
        this.pos += 2;
        return element;
      }
      if (this.text[this.pos] === ">") {
        this.pos += 1;
        break;
      }
      if (this.pos === before) this.fail("expected whitespace before an attribute");
      const key = this.name();
      this.skipSpace();
      if (this.text[this.pos] !== "=") this.fail(`expected "=" after ${key}`);
      this.pos += 1;
      this.skipSpace();
      const quote = this.text[this.pos];
      if (quote !== '"' && quote !== "'") this.fail(`expected a quoted value for ${key}`);
      const end = this.text.indexOf(quote, this.pos + 1);
      if (end < 0) this.fail(`unterminated value of ${key}`);
      const raw = this.text.slice(this.pos + 1, end);
      if (raw.includes("<")) this.fail(`"<" in the value of ${key}`);
      if (key in element.attributes) this.fail(`duplicate attribute ${key}`);
      element.attributes[key] = decode(raw, this.pos);
      this.pos = end + 1;
    }
    for (;;) {
      this.skipMisc();
      if (this.pos >= this.text.length) this.fail(`unclosed <${element.name}>`);
      if (this.text.startsWith("</", this.pos)) {
        this.pos += 2;
        const closing = this.name();
        if (closing !== element.name) this.fail(`</${closing}> closes <${element.name}>`);
        this.skipSpace();
        if (this.text[this.pos] !== ">") this.fail(`expected ">" after </${closing}`);
        this.pos += 1;
        return element;
      }
      element.children.push(this.element(depth + 1));
    }
  }

  document(): XmlElement {
    this.skipMisc();
    if (this.pos >= this.text.length) this.fail("no root element");
    const root = this.element(0);
    this.skipMisc();
    if (this.pos < this.text.length) this.fail("content after the root element");
    return root;
  }
}

/** Parses `text` into its root element; throws {@link XmlError} when malformed. */
export function parseXml(text: string): XmlElement {
  return new Parser(text).document();
}

/** The first child of `element` named `name`. */
export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}
