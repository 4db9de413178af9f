/**
 * A restricted unpickler: the opcode subset of pickle protocol 2 (plus the protocol 4 framing
 * and string opcodes) that torch.save uses for state dicts. It builds plain data
 * (None, bool, int, float, str, bytes, tuple, list, dict) and never executes code: a GLOBAL
 * is resolved only through the caller's `findGlobal`, which returns a data marker or a
 * `PyCallable` implemented in TypeScript, and throws for anything not on its allowlist.
 *
 * Reference: CPython Lib/pickle.py and Lib/pickletools.py (opcode table, argument
 * encodings). Deviations (on purpose): INST/OBJ/NEWOBJ/NEWOBJ_EX/EXT*, PERSID (text),
 * sets, LONG4 and the protocol 0/1 text opcodes are refused; BUILD is accepted only on a
 * dict with a dict state (the `_metadata` attribute torch stores on a state dict), whose
 * state is kept apart from the items; dict keys must be str, int, bool or None.
 */
import { ReelError } from "../errors.ts";

export class PyTuple {
  constructor(readonly items: readonly unknown[]) {}
}

export type PyKey = string | number | bigint | boolean | null;

export class PyDict {
  readonly items = new Map<PyKey, unknown>();
  /** Instance attributes set by BUILD (e.g. a state dict's `_metadata`); not items. */
  attrs: PyDict | null = null;
}

/** A callable a REDUCE may invoke: implemented here, never looked up in the file. */
export class PyCallable {
  constructor(
    readonly name: string,
    readonly call: (args: readonly unknown[]) => unknown,
  ) {}
}

export interface UnpickleOptions {
  /** Names the source in errors, e.g. "model.pth: archive/data.pkl". */
  readonly where: string;
  /** Resolves `module.name`; must throw for anything not allowed. */
  readonly findGlobal: (module: string, name: string) => unknown;
  /** Resolves a BINPERSID id; must throw for anything not allowed. */
  readonly persistentLoad: (pid: unknown) => unknown;
}

/** Opcodes refused on purpose, named in the error so the reason is clear. */
const REFUSED: Readonly<Record<number, string>> = {
  105: "INST",
  111: "OBJ",
  129: "NEWOBJ",
  146: "NEWOBJ_EX",
  130: "EXT1",
  131: "EXT2",
  132: "EXT4",
  80: "PERSID",
  139: "LONG4",
  143: "EMPTY_SET",
  144: "ADDITEMS",
  145: "FROZENSET",
  150: "BYTEARRAY8",
  151: "NEXT_BUFFER",
  152: "READONLY_BUFFER",
};

export function unpickle(bytes: Uint8Array, o: UnpickleOptions): unknown {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const latin1 = new TextDecoder("latin1");
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let opAt = 0;

  const fail = (msg: string): ReelError =>
    new ReelError("E_CHECKPOINT_INVALID", `${o.where}: ${msg} (pickle byte ${opAt})`, { details: { where: o.where } });
  const need = (n: number): number => {
    if (pos + n > bytes.length) throw fail("pickle ends in the middle of an opcode (truncated)");
    const at = pos;
    pos += n;
    return at;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!))
      throw fail("pickle stack underflow");
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!))
      throw fail("pickle stack underflow");
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) throw fail("pickle has no MARK to pop to");
    return stack.splice(m);
  };
  const str = (n: number): string => {
    const at = need(n);
    try {
      return utf8.decode(bytes.subarray(at, at + n));
    } catch {
      throw fail("string is not valid UTF-8");
    }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw fail("GLOBAL argument is not newline-terminated (truncated)");
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const intOf = (b: bigint): number | bigint => (b >= -(2n ** 53n) && b <= 2n ** 53n ? Number(b) : b);
  const key = (k: unknown): PyKey => {
    if (k === null || ["string", "number", "bigint", "boolean"].includes(typeof k)) return k as PyKey;
    throw fail(`dict key of type ${describe(k)} is not supported (str, int, bool or None only)`);
  };
  const dictAt = (d: unknown, op: string): PyDict => {
    if (!(d instanceof PyDict)) throw fail(`${op} on a ${describe(d)}, not a dict`);
    return d;
  };
  const setItems = (d: PyDict, kv: unknown[], op: string): void => {
    if (kv.length % 2) throw fail(`${op} with an odd number of stack items`);
    for (let i = 0; i < kv.length; i += 2) d.items.set(key(kv[i]), kv[i + 1]);
  };
  const listAt = (l: unknown, op: string): unknown[] => {
    if (!Array.isArray(l)) throw fail(`${op} on a ${describe(l)}, not a list`);
    return l;
  };
  const global = (module: string, name: string): unknown => {
    const g = o.findGlobal(module, name);
    if (g === undefined) throw fail(`global ${module}.${name} is not allowed`);
    return g;
  };

  while (true) {
    opAt = pos;
    const op = bytes[need(1)]!;
    switch (op) {
      case 0x80: {
        const proto = bytes[need(1)]!; // PROTO
        if (proto > 5) throw fail(`pickle protocol ${proto} is not supported`);
        break;
      }
      case 0x95: // FRAME: an 8-byte length; frames are an I/O hint, the opcodes simply follow.
        need(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) throw fail("pickle stops with an unbalanced stack");
        return stack[0];
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(dv.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(bytes[need(1)]!);
        break;
      case 0x4d: // BININT2
        stack.push(dv.getUint16(need(2), true));
        break;
      case 0x8a: {
        // LONG1: n little-endian two's-complement bytes.
        const n = bytes[need(1)]!;
        const at = need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]!);
        if (n > 0 && bytes[at + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(intOf(v));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        stack.push(dv.getFloat64(need(8), false));
        break;
      case 0x58: // BINUNICODE
        stack.push(str(dv.getUint32(need(4), true)));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(str(bytes[need(1)]!));
        break;
      case 0x8d: {
        // BINUNICODE8
        const n = dv.getBigUint64(need(8), true);
        if (n > BigInt(bytes.length)) throw fail("string length runs past the pickle (truncated)");
        stack.push(str(Number(n)));
        break;
      }
      case 0x42: // BINBYTES
      case 0x43: {
        // SHORT_BINBYTES
        const n = op === 0x42 ? dv.getUint32(need(4), true) : bytes[need(1)]!;
        const at = need(n);
        stack.push(bytes.slice(at, at + n));
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark(), "DICT");
        stack.push(d);
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const items: unknown[] = [];
        for (let i = op - 0x84; i > 0; i--) items.unshift(pop());
        stack.push(new PyTuple(items));
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(dictAt(top(), "SETITEM"), [k, v], "SETITEM");
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(dictAt(top(), "SETITEMS"), kv, "SETITEMS");
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        listAt(top(), "APPEND").push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const vs = popMark();
        listAt(top(), "APPENDS").push(...vs);
        break;
      }
      case 0x71: // BINPUT
        memo.set(bytes[need(1)]!, top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(dv.getUint32(need(4), true), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const i = op === 0x68 ? bytes[need(1)]! : dv.getUint32(need(4), true);
        if (!memo.has(i)) throw fail(`memo entry ${i} is read before it is written`);
        stack.push(memo.get(i));
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") throw fail("STACK_GLOBAL needs two strings");
        stack.push(global(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyCallable)) throw fail(`REDUCE calls a ${describe(fn)}, which is not callable`);
        if (!(args instanceof PyTuple)) throw fail(`REDUCE of ${fn.name} with ${describe(args)} arguments`);
        stack.push(fn.call(args.items));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const target = top();
        if (!(target instanceof PyDict) || !(state instanceof PyDict))
          throw fail(`BUILD of a ${describe(target)} with a ${describe(state)} state is not supported`);
        target.attrs = state;
        break;
      }
      case 0x51: // BINPERSID
        stack.push(o.persistentLoad(pop()));
        break;
      default: {
        const name = REFUSED[op];
        throw fail(
          name === undefined
            ? `unknown or unsupported pickle opcode 0x${op.toString(16).padStart(2, "0")}`
            : `pickle opcode ${name} is not allowed (a model file never executes code)`,
        );
      }
    }
  }
}

/** A short type name for error messages. */
export function describe(v: unknown): string {
  if (v === null) return "None";
  if (v instanceof PyTuple) return "tuple";
  if (v instanceof PyDict) return "dict";
  if (v instanceof PyCallable) return `callable ${v.name}`;
  if (Array.isArray(v)) return "list";
  if (v instanceof Uint8Array) return "bytes";
  if (typeof v === "object") return (v as object).constructor?.name ?? "object";
  return typeof v;
}
