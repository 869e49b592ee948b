// The trust's HTTP API, same origin.
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

async function check(res: Response): Promise<Response> {
  if (res.ok) return res;
  let code = "error";
  let msg = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (body && body.error) {
      code = String(body.error.code ?? code);
      msg = String(body.error.message ?? body.error);
    }
  } catch {
    // not JSON
  }
  throw new ApiError(res.status, code, msg);
}

export async function getJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await check(await fetch(path, { ...init, headers: { Accept: "application/json", ...(init.headers ?? {}) } }));
  return (await res.json()) as T;
}

export async function getText(path: string): Promise<string> {
  return (await check(await fetch(path))).text();
}

export async function getBytes(path: string): Promise<Uint8Array> {
  return new Uint8Array(await (await check(await fetch(path))).arrayBuffer());
}

export async function sendJson<T>(method: string, path: string, body: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await check(await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as T;
}

export interface Field {
  name: string;
  type: string;
  category: string;
  stored: boolean;
  subject: boolean;
  transforms: { kind: string; bucket?: string; cell_level?: number; step?: number; min?: number; max?: number; length?: number; patterns?: string[] }[];
}
export interface Stream {
  id: string;
  description: string;
  personal: boolean;
  subject_field: string | null;
  legal_basis: string;
  retention: string;
  pseudonym_epoch: string;
  linkability: string;
  purposes: { id: string; description?: string; legal_basis?: string }[];
  fields: Field[];
}
export interface Agreement {
  id: string;
  party: string;
  party_name?: string;
  stream: string;
  level: string;
  purposes: string[];
  fields: string[];
  valid_from: string | null;
  valid_until: string | null;
  time_granularity?: string;
  cell_level?: number;
  k?: number;
  budget?: { epsilon: number; delta: number; period: string };
  duties: { delete_after: string | null; no_onward_sharing: boolean };
}

export interface StreamsDoc {
  city: string;
  controller: string;
  streams: Stream[];
}

let streamsCache: Promise<StreamsDoc> | null = null;
export function streams(): Promise<StreamsDoc> {
  streamsCache ??= getJson<StreamsDoc>("/public/streams");
  return streamsCache;
}
let agreementsCache: Promise<Agreement[]> | null = null;
export function agreements(): Promise<Agreement[]> {
  agreementsCache ??= getJson<{ agreements: Agreement[] }>("/public/agreements").then((d) => d.agreements);
  return agreementsCache;
}
