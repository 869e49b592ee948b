// Plain-language wording of the policy's terms.
import type { Agreement, Field } from "./api";

const DURATION_UNITS: Record<string, [string, string]> = {
  s: ["second", "seconds"],
  m: ["minute", "minutes"],
  h: ["hour", "hours"],
  d: ["day", "days"],
  w: ["week", "weeks"],
  y: ["year", "years"],
};

// "30m" -> "30 minutes", "1y" -> "1 year".
export function duration(spec: string | null | undefined): string {
  if (!spec) return "";
  const m = /^(\d+(?:\.\d+)?)([smhdwy])$/.exec(spec);
  if (!m) return spec;
  const n = Number(m[1]);
  const [one, many] = DURATION_UNITS[m[2]];
  return `${m[1]} ${n === 1 ? one : many}`;
}

// Average S2 cell edge at `level`, rounded for display.
export function cellSize(level: number): string {
  const km = 7842 / 2 ** level;
  if (km >= 10) return `${Math.round(km)} km`;
  if (km >= 1) return `${km.toFixed(1)} km`;
  const m = km * 1000;
  return `${m >= 100 ? Math.round(m / 10) * 10 : Math.round(m)} m`;
}

export const LEGAL_BASIS: Record<string, string> = {
  consent: "your consent, which you can withdraw",
  contract: "a contract with you",
  "legal-obligation": "a legal obligation of the city",
  "vital-interest": "protecting someone's life",
  "public-task": "a task the city carries out in the public interest",
  "legitimate-interest": "a legitimate interest, which you can object to",
};

export const CATEGORY: Record<string, string> = {
  "direct-identifier": "identifies a person directly",
  "subject-identifier": "identifies the person, household or vehicle the data is about",
  "quasi-identifier": "could help identify someone when combined with other data",
  location: "a place",
  time: "a time",
  measurement: "a measurement",
  sensitive: "sensitive information",
  "free-text": "free text",
  other: "other information",
};

export function describeTransforms(f: Field): string {
  if (!f.stored) return "not kept: dropped as soon as it arrives";
  const parts: string[] = [];
  for (const t of f.transforms) {
    switch (t.kind) {
      case "pseudonymize":
        parts.push("replaced by a pseudonym");
        break;
      case "time_bucket":
        parts.push(`rounded down to ${duration(t.bucket)}`);
        break;
      case "cell":
        parts.push(`blurred to an area about ${cellSize(t.cell_level ?? 30)} across`);
        break;
      case "round":
        parts.push(`rounded to steps of ${t.step}`);
        break;
      case "clamp":
        parts.push(`limited to ${t.min ?? "-∞"}…${t.max ?? "∞"}`);
        break;
      case "truncate":
        parts.push(`cut to ${t.length} characters`);
        break;
      case "map":
        parts.push("generalised to broader categories");
        break;
      case "redact":
        parts.push(`with ${(t.patterns ?? []).join(", ")} removed`);
        break;
      default:
        break;
    }
  }
  return parts.length ? `kept, ${parts.join(", ")}` : "kept as received";
}

export function level(a: Agreement): string {
  switch (a.level) {
    case "records":
      return "individual records";
    case "extract":
      return `k-anonymous extracts (every released group holds at least ${a.k ?? "k"} records)`;
    case "aggregate":
      return a.budget
        ? `statistics with differential privacy (ε ${a.budget.epsilon} per ${duration(a.budget.period)})`
        : "statistics";
    case "public":
      return a.budget
        ? `published statistics with differential privacy (ε ${a.budget.epsilon} per ${duration(a.budget.period)})`
        : "published statistics";
    default:
      return a.level;
  }
}

export function duties(a: Agreement): string {
  const d: string[] = [];
  if (a.time_granularity) d.push(`times no finer than ${duration(a.time_granularity)}`);
  if (a.cell_level !== undefined) d.push(`places no finer than about ${cellSize(a.cell_level)}`);
  if (a.duties.delete_after) d.push(`must delete after ${duration(a.duties.delete_after)}`);
  if (a.duties.no_onward_sharing) d.push("may not pass it on");
  if (a.valid_until) d.push(`until ${a.valid_until.slice(0, 10)}`);
  return d.join("; ") || "none beyond the purposes";
}
