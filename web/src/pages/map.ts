// The sensor register on a map. No tile server is contacted: the map draws
// the city's outline (or the register's extent), each sensor and the cell
// its stream blurs locations to, as vector layers.
import L from "leaflet";
import { getJson, sendJson, ApiError } from "../api";
import { h, link, message, table } from "../dom";
import { cellSize } from "../words";

interface SensorProps {
  id: string;
  stream: string;
  name: string;
  owner: string;
  status: "proposed" | "live";
  comments_until: string | null;
  comment_count: number;
  objection_count: number;
  cell?: { token: string; level: number; polygon: [number, number][] } | null;
  dtpr?: { purpose: { id: string; description: string }[]; data_type: { kind: string } };
}
interface Feature {
  id: string;
  geometry: { type: "Point"; coordinates: [number, number] } | null;
  properties: SensorProps;
}
interface Register {
  type: "FeatureCollection";
  bbox?: [number, number, number, number];
  area?: { polygon?: [number, number][] } | null;
  features: Feature[];
}

export async function mapPage(main: HTMLElement): Promise<void> {
  main.append(
    h("h1", {}, "Sensors in the city"),
    h(
      "p",
      {},
      "Every sensor the city runs or proposes, what it collects and why. Proposed sensors are open for your comments until their date.",
    ),
  );
  const reg = await getJson<Register>("/public/register?format=geojson", { headers: { Accept: "application/geo+json" } });
  const mapEl = h("div", { id: "map", class: "map", role: "region", "aria-label": `Map of ${reg.features.length} sensors; the same sensors are listed in the table below` });
  main.append(mapEl);
  const map = L.map(mapEl, { attributionControl: false, worldCopyJump: true });
  const bounds = L.latLngBounds([]);
  if (reg.bbox) {
    const [w, s, e, n] = reg.bbox;
    L.rectangle([[s, w], [n, e]], { color: "#1b4965", weight: 2, fill: false, className: "city-outline" }).addTo(map);
    bounds.extend([[s, w], [n, e]]);
  }
  const markers: [L.CircleMarker, string][] = [];
  for (const f of reg.features) {
    const p = f.properties;
    if (p.cell && p.cell.polygon.length) {
      L.polygon(p.cell.polygon.map(([lon, lat]) => [lat, lon] as [number, number]), {
        color: "#5a189a",
        weight: 1,
        fillOpacity: 0.25,
        className: "sensor-cell",
      }).addTo(map);
    }
    if (!f.geometry) continue;
    const [lon, lat] = f.geometry.coordinates;
    bounds.extend([lat, lon]);
    const marker = L.circleMarker([lat, lon], {
      radius: 8,
      color: p.status === "proposed" ? "#9d0208" : "#1b4965",
      fillOpacity: 0.8,
      className: `sensor-marker sensor-${p.status}`,
    })
      .bindTooltip(`${p.name} (${p.status})`)
      .addTo(map);
    markers.push([marker, `Sensor: ${p.name} (${p.status})`]);
  }
  if (!reg.bbox && bounds.isValid()) {
    // No declared outline: draw the register's extent.
    L.rectangle(bounds.pad(0.05), { color: "#1b4965", weight: 1, dashArray: "4 4", fill: false, className: "city-outline" }).addTo(map);
  }
  if (bounds.isValid()) map.fitBounds(bounds.pad(0.1));
  else map.setView([0, 0], 1);
  // Leaflet makes a marker with a tooltip focusable (the tooltip opens on
  // focus); give each such Tab stop a role and a name. Elements exist once
  // the map has a view.
  for (const [marker, label] of markers) {
    const el = marker.getElement();
    el?.setAttribute("tabindex", "0");
    el?.setAttribute("role", "img");
    el?.setAttribute("aria-label", label);
  }

  const rows = reg.features.map((f) => {
    const p = f.properties;
    return [
      h("span", { "data-sensor": p.id }, p.name),
      link(`#/streams/${encodeURIComponent(p.stream)}`, p.stream),
      (p.dtpr?.purpose ?? []).map((x) => x.id).join(", "),
      p.owner,
      p.status === "proposed"
        ? h("span", {}, `proposed, comments until ${p.comments_until ? new Date(Date.parse(p.comments_until) - 1000).toISOString().slice(0, 10) : "?"} (${p.comment_count} received)`)
        : "live",
      p.cell ? `about ${cellSize(p.cell.level)}` : "-",
    ];
  });
  main.append(table("Sensors", ["Sensor", "Stream", "Purposes", "Owner", "Status", "Location blurred to"], rows, { id: "sensor-table" }));

  const proposed = reg.features.filter((f) => f.properties.status === "proposed");
  for (const f of proposed) main.append(commentForm(f.properties));
}

function commentForm(p: SensorProps): HTMLElement {
  const id = `comment-${p.id}`;
  const status = h("div", { "aria-live": "polite" });
  const text = h("textarea", { id: `${id}-text`, name: "text", maxlength: 2000, rows: 4, required: true });
  const kind = h("select", { id: `${id}-kind`, name: "kind" }, h("option", { value: "comment" }, "Comment"), h("option", { value: "objection" }, "Objection"));
  const form = h(
    "form",
    { class: "card", "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, `Comment on the proposed sensor “${p.name}”`),
    h("p", {}, "Your comment goes to the data office; it is not published, only the number of comments is. Do not include personal details."),
    h("label", { for: `${id}-kind` }, "Kind"),
    kind,
    h("label", { for: `${id}-text` }, "Your comment"),
    text,
    h("button", { type: "submit" }, "Send"),
    status,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    status.replaceChildren();
    try {
      const r = await sendJson<{ comment_count: number }>("POST", `/public/register/${encodeURIComponent(p.id)}/comments`, {
        kind: kind.value,
        text: text.value,
      });
      text.value = "";
      status.append(message(`Thank you. ${r.comment_count} comment(s) received so far.`));
    } catch (err) {
      status.append(message(err instanceof ApiError ? err.message : "Could not send.", "error"));
    }
  });
  return form;
}
