// Each stream in plain language: what is collected, why, how it is
// protected, who receives it and how long it is kept; with its DPIA.
import { agreements, getJson, streams, type Stream } from "../api";
import { append, h, link, message, table } from "../dom";
import { CATEGORY, LEGAL_BASIS, describeTransforms, duration, duties, level } from "../words";

export async function streamsPage(main: HTMLElement): Promise<void> {
  const doc = await streams();
  main.append(
    h("h1", {}, "What the city collects"),
    h("p", {}, `${doc.controller} is accountable for every stream below.`),
    h(
      "ul",
      { class: "cards" },
      doc.streams.map((s) =>
        h(
          "li",
          { class: "card" },
          h("h2", {}, link(`#/streams/${encodeURIComponent(s.id)}`, s.description)),
          h("p", {}, s.personal ? "Holds personal data, protected as described." : "Holds no personal data."),
          h("p", { class: "muted" }, s.id),
        ),
      ),
    ),
  );
}

interface DpiaJson {
  risks: { id: string; severity: string; agreement: string | null; description: string; mitigation: string }[];
  measures: {
    agreement: string | null;
    unicity_p2: { unicity: number; eligible: number } | null;
    unicity_p4: { unicity: number; eligible: number } | null;
    k_share: { share: number; k: number } | null;
    high_risk: boolean;
  }[];
  thresholds: { unicity: number };
  records: number;
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

export async function streamPage(main: HTMLElement, id: string): Promise<void> {
  const [doc, all] = await Promise.all([streams(), agreements()]);
  const s = doc.streams.find((x) => x.id === id);
  if (!s) {
    main.append(h("h1", {}, "Unknown stream"), message("No stream of this name.", "error"));
    return;
  }
  const mine = all.filter((a) => a.stream === s.id);
  main.append(h("h1", {}, s.description), h("p", { class: "muted" }, `Stream ${s.id}`));

  main.append(
    h("section", { "aria-labelledby": "what" }, h("h2", { id: "what" }, "What is collected"),
      table(
        "Fields",
        ["Field", "What it is", "What happens to it"],
        s.fields.map((f) => [f.name, CATEGORY[f.category] ?? f.category, describeTransforms(f)]),
      ),
    ),
    h("section", { "aria-labelledby": "why" }, h("h2", { id: "why" }, "Why"),
      h("ul", {}, s.purposes.map((p) => h("li", {}, h("strong", {}, p.id), `: ${p.description ?? ""} Legal basis: ${LEGAL_BASIS[p.legal_basis ?? s.legal_basis] ?? p.legal_basis}.`))),
    ),
    h("section", { "aria-labelledby": "how", id: "protections" }, h("h2", { id: "how" }, "How it is protected"), h("ul", {}, protections(s, mine))),
    h("section", { "aria-labelledby": "who" }, h("h2", { id: "who" }, "Who receives it"),
      mine.length
        ? table("Recipients", ["Agreement", "Who", "What", "For", "Conditions"], mine.map((a) => [a.id, a.party_name ?? a.party, level(a), a.purposes.join(", "), duties(a)]))
        : h("p", {}, "Nobody outside the trust."),
    ),
    h("section", { "aria-labelledby": "long" }, h("h2", { id: "long" }, "How long it is kept"),
      h("p", {}, `Records are deleted after ${duration(s.retention)}.` +
        (s.personal ? ` They can be linked back to you for ${duration(s.linkability)}; after that the keys that link them are destroyed.` : "")),
    ),
  );
  const dpiaSection = h("section", { "aria-labelledby": "dpia" }, h("h2", { id: "dpia" }, "Impact assessment (DPIA)"));
  main.append(dpiaSection);
  try {
    const d = await getJson<DpiaJson>(`/public/dpia/${encodeURIComponent(s.id)}`);
    const high = d.risks.filter((r) => r.severity === "high");
    append(dpiaSection, [
      h("p", {}, `Measured on ${d.records} stored records. `, link(`/public/dpia/${encodeURIComponent(s.id)}?format=html`, "Full DPIA (HTML)"), " · ",
        link(`/public/dpia/${encodeURIComponent(s.id)}?format=md`, "Markdown"), " · ", link(`/public/dpia/${encodeURIComponent(s.id)}?format=json`, "JSON")),
      high.length
        ? h("div", { class: "alert", role: "note" }, h("h3", {}, "High risks"), h("ul", {}, high.map((r) => h("li", { "data-risk": r.id, "data-agreement": r.agreement ?? "" }, `${r.description}. ${r.mitigation}.`))))
        : h("p", {}, "No high risk found."),
      d.measures.some((m) => m.unicity_p2)
        ? table(
            "How unique are the traces?",
            ["View", "Singled out by 2 points", "by 4 points", `Records in groups < k`],
            d.measures.map((m) => [
              m.agreement ? `agreement ${m.agreement}` : "stored data",
              m.unicity_p2 ? pct(m.unicity_p2.unicity) : "-",
              m.unicity_p4 ? pct(m.unicity_p4.unicity) : "-",
              m.k_share ? pct(m.k_share.share) : "-",
            ]),
          )
        : null,
    ]);
  } catch (e) {
    dpiaSection.append(message(`The DPIA is not available: ${(e as Error).message}`, "error"));
  }
}

function protections(s: Stream, mine: { level: string; k?: number; budget?: unknown }[]): HTMLElement[] {
  const out: string[] = [];
  const subject = s.fields.find((f) => f.subject);
  if (s.personal) {
    out.push(`Each record is encrypted with a key of its own person and period; deleting that key erases the data for good.`);
    if (subject) out.push(`${subject.name} is replaced by a pseudonym that changes every ${duration(s.pseudonym_epoch)}.`);
  } else {
    out.push("No personal data is collected.");
  }
  const dropped = s.fields.filter((f) => !f.stored);
  if (dropped.length) out.push(`Dropped at the door: ${dropped.map((f) => f.name).join(", ")}.`);
  const general = s.fields.filter((f) => f.stored && f.transforms.some((t) => ["time_bucket", "cell", "round", "clamp", "redact", "map", "truncate"].includes(t.kind)));
  if (general.length) out.push(`Coarsened before storage: ${general.map((f) => `${f.name} (${describeTransforms(f).replace(/^kept, /, "")})`).join("; ")}.`);
  if (mine.some((a) => a.budget)) out.push("Statistics are released with differential privacy: calibrated noise hides any one person.");
  const ks = mine.filter((a) => a.level === "extract" && a.k).map((a) => a.k!);
  if (ks.length) out.push(`Extracts are k-anonymous: every group holds at least ${Math.min(...ks)} records.`);
  out.push("Every access is decided against the agreements and written to the public transparency log.");
  return out.map((t) => h("li", {}, t));
}
