// The auditor screen's in-browser checks against a log made by the Python side (fixtures/audit-log.json: eleven
// entries, checkpoints of 7 and 11 signed by camgrid.audit.note.Signer, RFC 6962 paths from camgrid.audit.merkle).
// docs/design/auditor-screen.md. Every tampering must fail: the entry's bytes, its path, the note, the signature.
import { describe, expect, it } from "vitest";
import fx from "./fixtures/audit-log.json";
import { ed25519Verify } from "../src/ed25519";
import { b64, hex, leafHash, noteSignedBy, parseNote, parseVerifierKey, unb64, unhex, verifyCheckpoints, verifyEntry } from "../src/audit-verify";

const proof = (i: number, path = fx.proofs11[i]) => ({ index: i, size: 11, path, checkpoint: { note: fx.note11 } });
const flip = (h: string, at = 0) => h.slice(0, at) + ((parseInt(h[at], 16) ^ 1).toString(16)) + h.slice(at + 1);

describe("entries checked in the browser", () => {
  it("verifies every entry of the Python log, with WebCrypto and with the bundled verifier", async () => {
    const key = await parseVerifierKey(fx.key);
    for (const e of fx.entries) {
      expect(await verifyEntry(e, proof(e.index), key)).toMatchObject({ ok: true });
      expect(await verifyEntry(e, proof(e.index), key, { bundled: true })).toMatchObject({ ok: true });
    }
  });

  it("hashes the canonical bytes as UTF-8 (non-ASCII included)", async () => {
    const e = fx.entries[3];
    expect(e.data).toContain("ü");
    const path = fx.proofs11[3].map(unhex);
    expect(path.length).toBeGreaterThan(0);
    expect(hex(await leafHash(e.data))).toHaveLength(64);
  });

  it("fails for an altered entry, a shown field that is not the hashed one, a wrong path or index", async () => {
    const key = await parseVerifierKey(fx.key);
    const e = fx.entries[5];
    const rewritten = { ...e, data: e.data.replace('"who":"u5"', '"who":"u9"'), who: "u9" };
    expect((await verifyEntry(rewritten, proof(5), key)).ok).toBe(false);
    expect((await verifyEntry({ ...e, who: "someone-else" }, proof(5), key)).ok).toBe(false);
    expect((await verifyEntry({ ...e, at_ms: e.at_ms + 1 }, proof(5), key)).ok).toBe(false);
    const badPath = fx.proofs11[5].map((h, i) => (i === 1 ? flip(h) : h));
    expect((await verifyEntry(e, proof(5, badPath), key)).ok).toBe(false);
    expect((await verifyEntry(e, proof(5, fx.proofs11[5].slice(1)), key)).ok).toBe(false);
    expect((await verifyEntry(e, { ...proof(5), index: 4 }, key)).ok).toBe(false);
    expect((await verifyEntry({ ...fx.entries[4] }, proof(5), key)).ok).toBe(false);
  });

  it("fails for an altered note or signature, or another key; ignores witness cosignature lines", async () => {
    const key = await parseVerifierKey(fx.key);
    const e = fx.entries[2];
    const [body, sigs] = fx.note11.split("\n\n");
    const line = sigs.trim();
    const blob = unb64(line.slice(line.lastIndexOf(" ") + 1));
    blob[10] ^= 1;
    const badSig = `${body}\n\n${line.slice(0, line.lastIndexOf(" ") + 1)}${b64(blob)}\n`;
    expect((await verifyEntry(e, { ...proof(2), checkpoint: { note: badSig } }, key)).ok).toBe(false);
    expect((await verifyEntry(e, { ...proof(2), checkpoint: { note: badSig } }, key, { bundled: true })).ok).toBe(false);
    const otherRoot = fx.note11.replace(/\n[A-Za-z0-9+/=]{44}\n/, `\n${b64(new Uint8Array(32))}\n`);
    expect((await verifyEntry(e, { ...proof(2), checkpoint: { note: otherRoot } }, key)).ok).toBe(false);
    const withWitness = `${fx.note11}${fx.witness_line}\n`;
    expect(parseNote(withWitness).signatures).toHaveLength(2);
    expect((await verifyEntry(e, { ...proof(2), checkpoint: { note: withWitness } }, key)).ok).toBe(true);
    const onlyWitness = `${body}\n\n${fx.witness_line}\n`;
    expect((await verifyEntry(e, { ...proof(2), checkpoint: { note: onlyWitness } }, key)).ok).toBe(false);
    await expect(parseVerifierKey(fx.key.replace("camgrid.audit/test0001", "camgrid.audit/test0002"))).rejects.toThrow();
  });
});

describe("consistency between two checkpoints", () => {
  it("accepts the Python proof from 7 to 11 and refuses a rewritten history", async () => {
    const key = await parseVerifierKey(fx.key);
    expect(await verifyCheckpoints(fx.note7, fx.note11, fx.cons7_11, key)).toMatchObject({ ok: true });
    expect((await verifyCheckpoints(fx.note11, fx.note7, fx.cons7_11, key)).ok).toBe(false);
    expect((await verifyCheckpoints(fx.note7, fx.note11, fx.cons7_11.map((h, i) => (i === 0 ? flip(h, 5) : h)), key)).ok).toBe(false);
    expect((await verifyCheckpoints(fx.note7, fx.note11, fx.cons7_11.slice(1), key)).ok).toBe(false);
  });
});

describe("the bundled Ed25519 verifier", () => {
  it("passes RFC 8032 test 1 and 2 and refuses altered ones", async () => {
    const v1 = { pub: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", msg: "", sig: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" };
    const v2 = { pub: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", msg: "72", sig: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" };
    for (const v of [v1, v2]) {
      expect(await ed25519Verify(unhex(v.pub), unhex(v.sig), unhex(v.msg))).toBe(true);
      expect(await ed25519Verify(unhex(v.pub), unhex(flip(v.sig, 70)), unhex(v.msg))).toBe(false);
      expect(await ed25519Verify(unhex(v.pub), unhex(v.sig), new Uint8Array([1]))).toBe(false);
    }
  });

  it("agrees with WebCrypto on fresh keys", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const pub = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    const msg = new TextEncoder().encode("camgrid.audit/x\n5\nroot\n");
    const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, msg));
    expect(await ed25519Verify(pub, sig, msg)).toBe(true);
    sig[40] ^= 0x80;
    expect(await ed25519Verify(pub, sig, msg)).toBe(false);
  });

  it("checks a Python-signed note", async () => {
    const key = await parseVerifierKey(fx.key);
    expect(await noteSignedBy(parseNote(fx.note7), key, { bundled: true })).toBe(true);
  });
});
