/**
 * raftexample's proposal encoding: each entry's data is a whole Go
 * `encoding/gob` stream, as a fresh `gob.Encoder` writes one
 * `kv{Key, Val string}` value: first the type definition of struct `kv`,
 * then the value. Written from the byte layout Go produces (captured in
 * `testdata/raftexample_formats.txt`), not from Go's code.
 *
 * Layout: a stream is messages, each `uint(length) int(typeId) body`. A
 * negative type id defines type `-typeId` (body: a `wireType` struct); a
 * positive one carries a value of that type. A struct value is a list of
 * `uint(field delta) field` ended by a 0 delta; zero fields (empty strings)
 * are left out. A gob uint below 128 is one byte; otherwise a byte holding
 * minus the count of big-endian bytes that follow. A gob int is a uint with
 * the sign in the lowest bit. A string is `uint(length) bytes`.
 *
 * @module
 */

import { contentKey, type Proposal, type ProposalCodec, ProposalDecodeError } from "./codec.ts";

const utf8 = new TextEncoder();
// Go strings are bytes; raftexample takes any body. Invalid UTF-8 becomes U+FFFD here.
const text = new TextDecoder();

/** Gob's predefined type id of `string`. */
const STRING_TYPE = 6;
/** The id Go's gob gives the first user type registered in a process (raftexample's kv). */
const KV_TYPE = 65;

class Writer {
  #parts: number[] = [];
  #chunks: Uint8Array[] = [];
  #size = 0;

  uint(n: number): void {
    if (n < 128) {
      this.#parts.push(n);
      return;
    }
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
    this.#parts.push(256 - bytes.length, ...bytes);
  }

  int(n: number): void {
    this.uint(n < 0 ? (-n - 1) * 2 + 1 : n * 2);
  }

  bytes(b: Uint8Array): void {
    this.uint(b.length);
    this.#flush();
    this.#chunks.push(b);
    this.#size += b.length;
  }

  #flush(): void {
    if (this.#parts.length === 0) return;
    this.#chunks.push(Uint8Array.from(this.#parts));
    this.#size += this.#parts.length;
    this.#parts = [];
  }

  finish(): Uint8Array {
    this.#flush();
    const out = new Uint8Array(this.#size);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** A message: its length (a gob uint) and then the body. */
function message(body: Uint8Array): Uint8Array {
  const w = new Writer();
  w.uint(body.length);
  const head = w.finish();
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** The type definition message of `struct kv { Key, Val string }` with id {@link KV_TYPE}. */
const KV_TYPE_MESSAGE = (() => {
  const w = new Writer();
  w.int(-KV_TYPE);
  w.uint(3); // wireType field 3: StructT
  w.uint(1); // structType field 1: CommonType
  w.uint(1); // CommonType field 1: Name
  w.bytes(utf8.encode("kv"));
  w.uint(1); // CommonType field 2: Id
  w.int(KV_TYPE);
  w.uint(0); // end of CommonType
  w.uint(1); // structType field 2: Field ([]fieldType)
  w.uint(2);
  for (const name of ["Key", "Val"]) {
    w.uint(1); // fieldType field 1: Name
    w.bytes(utf8.encode(name));
    w.uint(1); // fieldType field 2: Id
    w.int(STRING_TYPE);
    w.uint(0);
  }
  w.uint(0); // end of structType
  w.uint(0); // end of wireType
  return message(w.finish());
})();

/** Gob-encodes `kv{Key: key, Val: value}` as a fresh Go encoder does. */
export function encodeKv(key: string, value: string): Uint8Array {
  const w = new Writer();
  w.int(KV_TYPE);
  let field = 0;
  for (const [i, s] of [[1, key], [2, value]] as const) {
    if (s === "") continue; // gob leaves zero fields out
    w.uint(i - field);
    w.bytes(utf8.encode(s));
    field = i;
  }
  w.uint(0);
  const value_ = message(w.finish());
  const out = new Uint8Array(KV_TYPE_MESSAGE.length + value_.length);
  out.set(KV_TYPE_MESSAGE);
  out.set(value_, KV_TYPE_MESSAGE.length);
  return out;
}

class Reader {
  at = 0;
  constructor(readonly buf: Uint8Array, readonly end = buf.length) {}

  byte(): number {
    if (this.at >= this.end) throw new ProposalDecodeError("gob: unexpected end of data");
    return this.buf[this.at++];
  }

  uint(): number {
    const b = this.byte();
    if (b < 128) return b;
    const n = 256 - b;
    if (n > 8) throw new ProposalDecodeError(`gob: bad uint length byte 0x${b.toString(16)}`);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.byte();
    if (!Number.isSafeInteger(v)) throw new ProposalDecodeError("gob: uint too large");
    return v;
  }

  int(): number {
    const u = this.uint();
    return u % 2 === 1 ? -(u - 1) / 2 - 1 : u / 2;
  }

  bytes(): Uint8Array {
    const n = this.uint();
    if (n > this.end - this.at) throw new ProposalDecodeError("gob: string runs past its message");
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }

  string(): string {
    return text.decode(this.bytes());
  }

  done(): boolean {
    return this.at >= this.end;
  }
}

interface StructDef {
  name: string;
  fields: { name: string; type: number }[];
}

// CommonType { Name string; Id int }
function readCommonType(r: Reader): { name: string; id: number } {
  const out = { name: "", id: 0 };
  let f = 0;
  for (let d = r.uint(); d !== 0; d = r.uint()) {
    f += d;
    if (f === 1) out.name = r.string();
    else if (f === 2) out.id = r.int();
    else throw new ProposalDecodeError(`gob: unexpected CommonType field delta ${f}`);
  }
  return out;
}

// wireType { ArrayT; SliceT; StructT; MapT; ... }: only StructT (field 3) is understood.
function readTypeDef(r: Reader): StructDef | undefined {
  const f = r.uint();
  if (f !== 3) return undefined; // not a struct type: raftexample never sends one
  const def: StructDef = { name: "", fields: [] };
  let field = 0;
  for (let d = r.uint(); d !== 0; d = r.uint()) {
    field += d;
    if (field === 1) def.name = readCommonType(r).name;
    else if (field === 2) {
      const n = r.uint();
      for (let i = 0; i < n; i++) {
        const fd = { name: "", type: 0 };
        let ff = 0;
        for (let d2 = r.uint(); d2 !== 0; d2 = r.uint()) {
          ff += d2;
          if (ff === 1) fd.name = r.string();
          else if (ff === 2) fd.type = r.int();
          else throw new ProposalDecodeError(`gob: unexpected fieldType field ${ff}`);
        }
        def.fields.push(fd);
      }
    } else throw new ProposalDecodeError(`gob: unexpected structType field ${field}`);
  }
  return def;
}

/**
 * Decodes the first value of a gob stream as raftexample's `kv` (as Go's
 * `Decoder.Decode(&kv)` does; what follows it is not read). Throws
 * {@link ProposalDecodeError} if it is not one.
 */
export function decodeKv(data: Uint8Array): { key: string; value: string } {
  const r = new Reader(data);
  const types = new Map<number, StructDef>();
  while (!r.done()) {
    const length = r.uint();
    if (length > data.length - r.at) throw new ProposalDecodeError("gob: message runs past data");
    const m = new Reader(data.subarray(0, r.at + length));
    m.at = r.at;
    r.at += length;
    const id = m.int();
    if (id < 0) {
      const def = readTypeDef(m);
      if (def !== undefined) types.set(-id, def);
      continue;
    }
    const def = types.get(id);
    if (def === undefined) throw new ProposalDecodeError(`gob: value of undefined type ${id}`);
    const out = { key: "", value: "" };
    let field = -1;
    for (let d = m.uint(); d !== 0; d = m.uint()) {
      field += d;
      const fd = def.fields[field];
      if (fd === undefined || fd.type !== STRING_TYPE) {
        throw new ProposalDecodeError(`gob: field ${field} of ${def.name} is not a string`);
      }
      const s = m.string();
      if (fd.name === "Key") out.key = s;
      else if (fd.name === "Val") out.value = s;
    }
    const names = def.fields.map((f) => f.name);
    if (!names.includes("Key") || !names.includes("Val")) {
      throw new ProposalDecodeError(`gob: type ${def.name} has no Key and Val fields`);
    }
    return out;
  }
  throw new ProposalDecodeError("gob: stream has no value");
}

/**
 * raftexample's codec: a gob stream of `kv{Key, Val}` per proposal. It
 * carries no proposal id, so a member matches its writes by key and value.
 *
 * @example
 * ```ts
 * import { gobCodec } from "./gob.ts";
 * const data = gobCodec.encode({ key: "/a", value: "1" });
 * console.log(gobCodec.decode(data)); // { key: "/a", value: "1" }
 * ```
 */
export const gobCodec: ProposalCodec = {
  name: "gob",
  encode(p: Proposal): Uint8Array {
    return encodeKv(p.key, p.value);
  },
  decode(data: Uint8Array): Proposal {
    return decodeKv(data);
  },
  waitKey(data: Uint8Array): string | undefined {
    try {
      return contentKey(decodeKv(data));
    } catch {
      return undefined;
    }
  },
};
