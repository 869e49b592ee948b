// Who accessed what, for which purpose, per week: read from the
// transparency log's entries in the browser.
import { fetchCheckpoint, fetchEntries, toHex } from "../log";
import { h, link, table } from "../dom";

interface Leaf {
  type: string;
  time: string;
  party?: string;
  purpose?: string;
  stream?: string;
  level?: string;
  result?: string;
  rows?: number;
}

// Monday of the ISO week of `iso` ("2026-01-05").
function weekOf(iso: string): string {
  const d = new Date(iso);
  const day = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - day);
  return d.toISOString().slice(0, 10);
}

const MAX_ENTRIES = 20000;

export async function accessPage(main: HTMLElement): Promise<void> {
  const cp = await fetchCheckpoint();
  main.append(
    h("h1", {}, "Who accessed what"),
    h("p", {}, "Every request for data is decided against the agreements and written to the public log, permitted or refused. This page reads the log itself, entry by entry. ", link("#/verify", "Verify an entry.")),
    h("p", { id: "checkpoint" }, `Checkpoint: ${cp.size} entries, root ${toHex(cp.root).slice(0, 16)}…`),
  );
  const begin = Math.max(0, cp.size - MAX_ENTRIES);
  const raw = await fetchEntries(begin, cp.size, cp.size);
  const dec = new TextDecoder();
  const groups = new Map<string, { week: string; party: string; stream: string; purpose: string; level: string; result: string; n: number; rows: number }>();
  const kinds = new Map<string, number>();
  for (const bytes of raw) {
    const leaf = JSON.parse(dec.decode(bytes)) as Leaf;
    kinds.set(leaf.type, (kinds.get(leaf.type) ?? 0) + 1);
    if (leaf.type !== "decision") continue;
    const key = [weekOf(leaf.time), leaf.party, leaf.stream, leaf.purpose, leaf.level, leaf.result].join("|");
    const g = groups.get(key) ?? { week: weekOf(leaf.time), party: leaf.party ?? "-", stream: leaf.stream ?? "-", purpose: leaf.purpose ?? "-", level: leaf.level ?? "-", result: leaf.result ?? "-", n: 0, rows: 0 };
    g.n++;
    g.rows += leaf.rows ?? 0;
    groups.set(key, g);
  }
  const rows = [...groups.values()].sort((a, b) => b.week.localeCompare(a.week) || a.party.localeCompare(b.party));
  main.append(
    table(
      "Access decisions per week",
      ["Week of", "Who", "Stream", "Purpose", "Level", "Decision", "Requests", "Rows released"],
      rows.map((g) => [g.week, g.party, g.stream, g.purpose, g.level, g.result, g.n, g.rows]),
      { id: "access-table" },
    ),
    table(
      "Log entries by kind",
      ["Kind", "Entries"],
      [...kinds.entries()].map(([k, n]) => [k, n]),
    ),
  );
  if (begin > 0) main.append(h("p", { class: "muted" }, `Only the latest ${MAX_ENTRIES} entries are counted here.`));
}
