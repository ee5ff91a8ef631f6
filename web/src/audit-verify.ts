// The auditor's checks, done in the browser (docs/design/auditor-screen.md): no DOM, only WebCrypto.
// - leaf hash SHA-256(0x00 || data) recomputed from the entry's canonical bytes, node hash SHA-256(0x01 || l || r);
// - RFC 9162 2.1.3.2 (inclusion) and 2.1.4.2 (consistency) folded to the root;
// - C2SP signed notes: body "<origin>\n<size>\n<base64 root>\n", a blank line, signature lines
//   "— <name> <base64(4-byte key id || signature)>"; the log's verifier key "<name>+<hex id>+<base64(0x01 || pub)>".
//   Signature lines by other keys (witness cosignatures) are ignored: only the log's own key must verify.
// - Ed25519 with WebCrypto, or the bundled verifier (ed25519.ts) where the browser lacks it.
import { ed25519Verify } from "./ed25519";
import { t } from "./i18n";

const enc = new TextEncoder();
export const SIG_PREFIX = "\u2014 ";

export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export function unhex(s: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/i.test(s)) throw new Error("not hex");
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function unb64(s: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4) throw new Error("not base64");
  const bin = atob(s);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export function b64(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b));
}

function cat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", cat(data)));
}

export const leafHash = (data: string): Promise<Uint8Array> => sha256(cat(new Uint8Array([0]), enc.encode(data)));
export const nodeHash = (l: Uint8Array, r: Uint8Array): Promise<Uint8Array> => sha256(cat(new Uint8Array([1]), l, r));

/** RFC 9162 2.1.3.2: the root the path leads to from the leaf, or null when the path cannot be for (index, size). */
export async function rootFromInclusion(leaf: Uint8Array, index: number, size: number, path: Uint8Array[]): Promise<Uint8Array | null> {
  if (!(index >= 0 && index < size)) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else r = await nodeHash(r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

/** RFC 9162 2.1.4.2 (and the trivial cases old == new, old == 0). */
export async function verifyConsistency(oldSize: number, newSize: number, oldRoot: Uint8Array, newRoot: Uint8Array, proof: Uint8Array[]): Promise<boolean> {
  if (oldSize < 0 || oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && equal(oldRoot, newRoot);
  if (oldSize === 0) return proof.length === 0;
  if (!proof.length) return false;
  const path = (oldSize & (oldSize - 1)) === 0 ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else sr = await nodeHash(sr, c);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(fr, oldRoot) && equal(sr, newRoot);
}

export interface VerifierKey {
  name: string;
  id: Uint8Array; // 4 bytes
  pub: Uint8Array; // 32 bytes
}

export async function keyId(name: string, pub: Uint8Array): Promise<Uint8Array> {
  return (await sha256(cat(enc.encode(name), new Uint8Array([0x0a, 0x01]), pub))).slice(0, 4);
}

/** "<name>+<hex id>+<base64(0x01 || pub)>", its id checked against the name and key. */
export async function parseVerifierKey(text: string): Promise<VerifierKey> {
  const t = text.trim();
  const a = t.indexOf("+");
  const b = t.indexOf("+", a + 1);
  if (a <= 0 || b < 0) throw new Error("a verifier key is <name>+<id>+<key>");
  const name = t.slice(0, a);
  const id = unhex(t.slice(a + 1, b));
  const raw = unb64(t.slice(b + 1));
  if (raw.length !== 33 || raw[0] !== 0x01) throw new Error("not an Ed25519 verifier key");
  const pub = raw.slice(1);
  if (!equal(id, await keyId(name, pub))) throw new Error("the key id does not match the name and key");
  return { name, id, pub };
}

export interface SignedNote {
  origin: string;
  size: number;
  root: Uint8Array;
  body: string;
  signatures: { name: string; blob: Uint8Array }[];
}

/** Parse a checkpoint note. Lines after the blank line that are not well-formed signature lines are skipped. */
export function parseNote(text: string): SignedNote {
  const cut = text.indexOf("\n\n");
  if (cut < 0) throw new Error("the note has no blank line between body and signatures");
  const body = text.slice(0, cut + 1);
  const lines = body.split("\n");
  if (lines.length < 4) throw new Error("a checkpoint body has origin, size and root");
  const [origin, sizeText, rootText] = lines;
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw new Error(`bad tree size ${JSON.stringify(sizeText)}`);
  const root = unb64(rootText);
  if (!origin || root.length !== 32) throw new Error("bad origin or root hash");
  const signatures: SignedNote["signatures"] = [];
  for (const line of text.slice(cut + 2).split("\n")) {
    if (!line.startsWith(SIG_PREFIX)) continue;
    const rest = line.slice(SIG_PREFIX.length);
    const sp = rest.lastIndexOf(" ");
    try {
      const blob = unb64(rest.slice(sp + 1));
      if (sp > 0 && blob.length >= 5) signatures.push({ name: rest.slice(0, sp), blob });
    } catch {
      /* not base64: not a signature this verifier knows */
    }
  }
  return { origin, size: Number(sizeText), root, body, signatures };
}

let subtleEd25519: boolean | null = null;

/** Ed25519 by WebCrypto when the browser has it, else by the bundled verifier. */
export async function ed25519(pub: Uint8Array, sig: Uint8Array, msg: Uint8Array, opts: { bundled?: boolean } = {}): Promise<boolean> {
  if (!opts.bundled && subtleEd25519 !== false) {
    try {
      const key = await crypto.subtle.importKey("raw", cat(pub), { name: "Ed25519" }, false, ["verify"]);
      subtleEd25519 = true;
      return await crypto.subtle.verify({ name: "Ed25519" }, key, cat(sig), cat(msg));
    } catch (e) {
      if (subtleEd25519 === true) return false; // WebCrypto has Ed25519: this key or signature is malformed
      subtleEd25519 = false;
      console.warn("WebCrypto has no Ed25519; using the bundled verifier", e);
    }
  }
  return ed25519Verify(pub, sig, msg);
}

export function ed25519Engine(): string {
  return subtleEd25519 === false ? t("audit-verify.bundled") : "WebCrypto Ed25519";
}

/** True when a signature line by the key (same name and key id) verifies over the note's body. */
export async function noteSignedBy(note: SignedNote, key: VerifierKey, opts: { bundled?: boolean } = {}): Promise<boolean> {
  for (const s of note.signatures) {
    if (s.name !== key.name || !equal(s.blob.slice(0, 4), key.id) || s.blob.length !== 68) continue;
    if (await ed25519(key.pub, s.blob.slice(4), enc.encode(note.body), opts)) return true;
  }
  return false;
}

export interface EntryLike {
  index: number;
  at_ms: number;
  who: string;
  action: string;
  camera: string | null;
  data: string;
}

export interface ProofLike {
  index: number;
  size: number;
  path: string[];
  checkpoint: { note: string };
}

export interface Check {
  ok: boolean;
  why: string;
}

/** The fields shown must be the ones hashed: who, action, camera and time are read back from the canonical bytes. */
export function shownMatchesData(e: EntryLike): boolean {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(e.data) as Record<string, unknown>;
  } catch {
    return false;
  }
  const at = /"at_ns":(\d+)/.exec(e.data);
  return (
    doc.who === e.who &&
    doc.action === e.action &&
    (doc.camera ?? null) === e.camera &&
    at !== null &&
    BigInt(at[1]) / 1_000_000n === BigInt(e.at_ms)
  );
}

/** The whole check of one entry: its bytes, its path to the checkpoint's root, and the checkpoint's signature. */
export async function verifyEntry(e: EntryLike, p: ProofLike, key: VerifierKey, opts: { bundled?: boolean } = {}): Promise<Check> {
  if (!shownMatchesData(e)) return { ok: false, why: t("audit-verify.notHashed") };
  if (p.index !== e.index) return { ok: false, why: t("audit-verify.otherEntry") };
  let note: SignedNote;
  try {
    note = parseNote(p.checkpoint.note);
  } catch (err) {
    return { ok: false, why: t("audit-verify.checkpoint", { why: (err as Error).message }) };
  }
  if (note.origin !== key.name) return { ok: false, why: t("audit-verify.otherLog", { origin: note.origin }) };
  if (note.size !== p.size) return { ok: false, why: t("audit-verify.otherSize") };
  if (!(await noteSignedBy(note, key, opts))) return { ok: false, why: t("audit-verify.notSigned", { key: key.name }) };
  let path: Uint8Array[];
  try {
    path = p.path.map(unhex);
  } catch {
    return { ok: false, why: t("audit-verify.pathNotHex") };
  }
  const root = await rootFromInclusion(await leafHash(e.data), e.index, p.size, path);
  if (root === null || !equal(root, note.root))
    return { ok: false, why: t("audit-verify.notInTree", { index: e.index, size: note.size }) };
  return { ok: true, why: t("audit-verify.inTree", { size: note.size, key: key.name }) };
}

/** Consistency between two signed checkpoints: both signed by the key, same log, and the proof folds to both roots. */
export async function verifyCheckpoints(oldNote: string, newNote: string, proof: string[], key: VerifierKey, opts: { bundled?: boolean } = {}): Promise<Check> {
  let a: SignedNote;
  let b: SignedNote;
  try {
    a = parseNote(oldNote);
    b = parseNote(newNote);
  } catch (err) {
    return { ok: false, why: t("audit-verify.checkpoint", { why: (err as Error).message }) };
  }
  for (const n of [a, b]) {
    if (n.origin !== key.name) return { ok: false, why: t("audit-verify.sizeOtherLog", { size: n.size }) };
    if (!(await noteSignedBy(n, key, opts))) return { ok: false, why: t("audit-verify.sizeNotSigned", { size: n.size, key: key.name }) };
  }
  let path: Uint8Array[];
  try {
    path = proof.map(unhex);
  } catch {
    return { ok: false, why: t("audit-verify.proofNotHex") };
  }
  if (!(await verifyConsistency(a.size, b.size, a.root, b.root, path)))
    return { ok: false, why: t("audit-verify.notExtends", { b: b.size, a: a.size }) };
  return { ok: true, why: t("audit-verify.extends", { b: b.size, a: a.size }) };
}
