// Reading and checking the transparency log in the browser: C2SP
// checkpoints and entry bundles, RFC 9162 inclusion proofs with WebCrypto
// SHA-256, and the checkpoint's Ed25519 signature where the browser has it.
import { getBytes, getJson, getText } from "./api";

export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  body: string; // the signed text, with its final newline
  signatures: { name: string; sig: Uint8Array }[];
}

export function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export function parseCheckpoint(note: string): Checkpoint {
  const split = note.indexOf("\n\n");
  if (split < 0) throw new Error("the checkpoint has no signature block");
  const body = note.slice(0, split + 1);
  const lines = body.split("\n");
  if (lines.length < 4 || !/^\d+$/.test(lines[1])) throw new Error("malformed checkpoint");
  const signatures = note
    .slice(split + 2)
    .split("\n")
    .filter((l) => l.startsWith("\u2014 "))
    .map((l) => {
      const [, name, sig] = l.split(" ");
      return { name, sig: fromBase64(sig) };
    });
  return { origin: lines[0], size: Number(lines[1]), root: fromBase64(lines[2]), body, signatures };
}

export async function fetchCheckpoint(): Promise<Checkpoint> {
  return parseCheckpoint(await getText("/log/checkpoint"));
}

// Checks the checkpoint's Ed25519 signature against the verifier key
// "<name>+<hex id>+<base64(0x01 || key)>". Returns null when the browser has
// no Ed25519 in WebCrypto.
export async function verifyCheckpointSignature(cp: Checkpoint, verifierKey: string): Promise<boolean | null> {
  const [name, , b64] = verifierKey.trim().split("+");
  const key = fromBase64(b64);
  if (key[0] !== 1 || key.length !== 33) return false;
  const sig = cp.signatures.find((s) => s.name === name);
  if (!sig || sig.sig.length !== 68) return false;
  let pub: CryptoKey;
  try {
    pub = await crypto.subtle.importKey("raw", key.slice(1), { name: "Ed25519" }, false, ["verify"]);
  } catch {
    return null;
  }
  return crypto.subtle.verify({ name: "Ed25519" }, pub, sig.sig.slice(4), new TextEncoder().encode(cp.body));
}

// C2SP tlog-tiles index encoding: 1234067 -> "x001/x234/067".
export function tileIndexPath(n: number): string {
  const parts: string[] = [];
  do {
    parts.unshift(String(n % 1000).padStart(3, "0"));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return parts.map((p, i) => (i < parts.length - 1 ? `x${p}` : p)).join("/");
}

function parseBundle(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i + 2 <= bytes.length) {
    const len = (bytes[i] << 8) | bytes[i + 1];
    out.push(bytes.slice(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return out;
}

// Entries [begin, end) of the log at `size`, as raw leaf bytes.
export async function fetchEntries(begin: number, end: number, size: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let t = Math.floor(begin / 256); t * 256 < end; t++) {
    const width = Math.min(256, size - t * 256);
    const path = `/log/tile/entries/${tileIndexPath(t)}${width < 256 ? `.p/${width}` : ""}`;
    const entries = parseBundle(await getBytes(path));
    entries.forEach((e, j) => {
      const idx = t * 256 + j;
      if (idx >= begin && idx < end) out.push(e);
    });
  }
  return out;
}

async function sha256(parts: Uint8Array[]): Promise<Uint8Array> {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const buf = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    buf.set(p, o);
    o += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

export const leafHash = (data: Uint8Array) => sha256([new Uint8Array([0]), data]);
const nodeHash = (l: Uint8Array, r: Uint8Array) => sha256([new Uint8Array([1]), l, r]);

// RFC 9162, 2.1.3.2: the root an inclusion proof leads to.
export async function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: Uint8Array[]): Promise<Uint8Array> {
  if (index >= size) throw new Error("index beyond the tree");
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new Error("proof too long");
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error("proof too short");
  return r;
}

export interface InclusionProof {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[];
}

export interface VerifyResult {
  checkpoint: Checkpoint;
  leaf: unknown;
  leafHashHex: string;
  computedRootHex: string;
  ok: boolean;
  signature: boolean | null;
}

// Fetches leaf `index` itself, hashes it, and checks its inclusion in the
// latest checkpoint's tree. Nothing the server says is trusted except
// through the hashes.
export async function verifyInclusion(index: number): Promise<VerifyResult> {
  const cp = await fetchCheckpoint();
  if (index < 0 || index >= cp.size) throw new Error(`the log holds entries 0 to ${cp.size - 1}`);
  const [data] = await fetchEntries(index, index + 1, cp.size);
  const lh = await leafHash(data);
  const p = await getJson<InclusionProof>(`/log/proof/inclusion?index=${index}&size=${cp.size}`);
  const root = await rootFromInclusionProof(index, cp.size, lh, p.proof.map(fromBase64));
  let signature: boolean | null = null;
  try {
    signature = await verifyCheckpointSignature(cp, await getText("/log/key"));
  } catch {
    signature = null;
  }
  return {
    checkpoint: cp,
    leaf: JSON.parse(new TextDecoder().decode(data)),
    leafHashHex: toHex(lh),
    computedRootHex: toHex(root),
    ok: toHex(root) === toHex(cp.root),
    signature,
  };
}
