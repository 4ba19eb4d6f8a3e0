/**
 * What `grpc-edge-gateway doctor` finds: six steps, each a list of checks
 * with a status, what was seen, the fix for a failure and the gateway's
 * reason code for that cause. Printed as a checklist, or as JSON with
 * `--json` (the same objects).
 */
import { type Reason, reasons } from "../errors.ts";

export type CheckStatus = "pass" | "warn" | "fail" | "skip";

export interface Check {
  /** Stable, for scripts: `upstream.notes.tls`, `token.audience`. */
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  /** What was found. Never contains a token. */
  readonly detail: string;
  /** What to do about a warning or a failure. */
  readonly fix?: string;
  /** The reason code the gateway gives this cause at run time, when it has one. */
  readonly reason?: Reason;
}

export interface StepReport {
  readonly step: number;
  readonly name: StepName;
  readonly title: string;
  readonly checks: readonly Check[];
}

export interface DoctorReport {
  /** No check failed (warnings allowed). */
  readonly ok: boolean;
  readonly steps: readonly StepReport[];
}

/** The steps, in the order they run. */
export const STEPS = [
  { step: 1, name: "config", title: "config and certificate files" },
  { step: 2, name: "upstreams", title: "upstreams over mutual TLS" },
  { step: 3, name: "issuers", title: "issuers' discovery and keys" },
  { step: 4, name: "token", title: "the token" },
  { step: 5, name: "cors", title: "CORS preflight" },
  { step: 6, name: "gateway", title: "calls through the running gateway" },
] as const;

export type StepName = (typeof STEPS)[number]["name"];

type CheckFields = Omit<Check, "status">;

export const pass = (id: string, title: string, detail: string): Check => ({
  id,
  title,
  status: "pass",
  detail,
});

export const skip = (id: string, title: string, detail: string): Check => ({
  id,
  title,
  status: "skip",
  detail,
});

export const warn = (check: CheckFields & { readonly fix: string }): Check => ({
  ...check,
  status: "warn",
});

export const fail = (check: CheckFields & { readonly fix: string }): Check => ({
  ...check,
  status: "fail",
});

/** A failure the gateway has a reason for: its advice is the fix. */
export const failWith = (id: string, title: string, detail: string, reason: Reason): Check =>
  fail({ id, title, detail, fix: reasons[reason].advice, reason });

export function buildReport(
  steps: ReadonlyArray<{ name: StepName; checks: readonly Check[] }>,
): DoctorReport {
  const reports = steps.map(({ name, checks }) => {
    const step = STEPS.find((s) => s.name === name) as (typeof STEPS)[number];
    return { step: step.step, name, title: step.title, checks };
  });
  return {
    ok: reports.every((r) => r.checks.every((c) => c.status !== "fail")),
    steps: reports,
  };
}

const MARKS: Readonly<Record<CheckStatus, string>> = {
  pass: "[ok]  ",
  warn: "[warn]",
  fail: "[FAIL]",
  skip: "[skip]",
};

/** The checklist as text: one line per check, its fix indented under it. */
export function formatReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const step of report.steps) {
    lines.push(`${step.step}. ${step.title}`);
    for (const check of step.checks) {
      const reason =
        check.reason === undefined || check.status === "pass" ? "" : ` [${check.reason}]`;
      lines.push(`  ${MARKS[check.status]} ${check.title}: ${check.detail}${reason}`);
      if (check.fix !== undefined && check.status !== "pass")
        lines.push(`         fix: ${check.fix}`);
    }
  }
  const all = report.steps.flatMap((s) => s.checks);
  const count = (status: CheckStatus) => all.filter((c) => c.status === status).length;
  lines.push(
    report.ok
      ? `all checks passed (${count("warn")} warnings, ${count("skip")} skipped)`
      : `${count("fail")} failed, ${count("warn")} warnings, ${count("skip")} skipped`,
  );
  return `${lines.join("\n")}\n`;
}
