// Public DP releases: a chart of each (uPlot) and its CSV and GeoJSON.
import uPlot from "uplot";
import { ApiError, getJson } from "../api";
import { h, link, message, table } from "../dom";

interface Summary {
  id: string;
  title?: string;
  stream: string;
  metric?: string;
  group_by?: string[] | string;
  epsilon?: number;
  delta?: number;
  rows_count?: number;
  created?: string;
}
interface Release extends Summary {
  columns: string[];
  // Each row is an object keyed by column name.
  rows: Record<string, unknown>[];
}

function numeric(v: unknown): number | null {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) return Number(v);
  return null;
}

function chart(r: Release, width: number): HTMLElement | null {
  // The last numeric column is the released value; x is a time column when
  // there is one, else the row number.
  const rows = r.rows.map((row) => r.columns.map((c) => row[c]));
  const valueCol = [...r.columns.keys()].reverse().find((c) => rows.some((row) => numeric(row[c]) !== null));
  if (valueCol === undefined || rows.length === 0) return null;
  const timeCol = r.columns.findIndex((_, c) => rows.every((row) => typeof row[c] === "string" && !Number.isNaN(Date.parse(String(row[c])))));
  const xs = rows.map((row, i) => (timeCol >= 0 ? Date.parse(String(row[timeCol])) / 1000 : i));
  const ys = rows.map((row) => numeric(row[valueCol]));
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const el = h("div", { class: "chart", role: "img", "aria-label": `Chart of ${r.columns[valueCol]} for ${r.title ?? r.id}; the values are in the CSV download` });
  new uPlot(
    {
      width,
      height: 240,
      scales: { x: { time: timeCol >= 0 } },
      series: [{ label: timeCol >= 0 ? r.columns[timeCol] : "row" }, { label: r.columns[valueCol], stroke: "#1b4965", width: 2, fill: "rgba(27,73,101,0.1)" }],
      // The value axis grows with its labels, so "-10,000" is not clipped.
      axes: [{}, { size: (_u, values) => Math.max(50, 20 + 8 * Math.max(0, ...(values ?? []).map((v) => String(v).length))) }],
    },
    [order.map((i) => xs[i]), order.map((i) => ys[i])],
    el,
  );
  return el;
}

export async function releasesPage(main: HTMLElement): Promise<void> {
  main.append(
    h("h1", {}, "Open statistics"),
    h("p", {}, "Statistics published for everyone with differential privacy: calibrated noise is added so that no one person's data changes what you see by more than the stated ε."),
  );
  let list: Summary[];
  try {
    list = (await getJson<{ releases: Summary[] }>("/public/releases")).releases;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      main.append(message("This trust publishes no releases yet."));
      return;
    }
    throw e;
  }
  if (list.length === 0) {
    main.append(message("No release has been published yet."));
    return;
  }
  main.append(
    table(
      "Releases",
      ["Release", "Stream", "What", "Privacy (ε)", "Rows", "Published", "Download"],
      list.map((r) => [
        r.title ?? r.id,
        link(`#/streams/${encodeURIComponent(r.stream)}`, r.stream),
        r.metric ?? "",
        r.epsilon ?? "",
        r.rows_count ?? "",
        r.created?.slice(0, 10) ?? "",
        h("span", {}, link(`/public/releases/${encodeURIComponent(r.id)}.csv`, "CSV"), " · ", link(`/public/releases/${encodeURIComponent(r.id)}.geojson`, "GeoJSON")),
      ]),
      { id: "releases-table" },
    ),
  );
  for (const s of list.slice(0, 12)) {
    const r = await getJson<Release>(`/public/releases/${encodeURIComponent(s.id)}`);
    const section = h("section", { class: "card", "aria-labelledby": `rel-${s.id}` }, h("h2", { id: `rel-${s.id}` }, r.title ?? r.id));
    main.append(section);
    // As wide as the card's content box, so the chart fits a phone.
    const cs = getComputedStyle(section);
    const width = Math.min(900, (section.clientWidth || 600) - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight));
    const c = chart(r, width);
    section.append(c ?? message("Nothing to chart in this release."));
  }
}
