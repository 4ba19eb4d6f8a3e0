// The README's troubleshooting table, from src/errors.ts (each reason, its
// status and advice) and the doctor steps that confirm it.
import { CONFIRMING_STEPS } from "../src/doctor/confirming-steps.ts";
import { STEPS } from "../src/doctor/report.ts";
import { reasons } from "../src/errors.ts";
import { codeName } from "../src/grpc-web/grpc-status.ts";

function doctorCell(reason: keyof typeof reasons): string {
  const steps = CONFIRMING_STEPS[reason];
  if (steps === undefined) return "none";
  return steps
    .map((name) => {
      const step = STEPS.find((s) => s.name === name) as (typeof STEPS)[number];
      return `${step.step} ${step.name}`;
    })
    .join(", ");
}

export function reasonsTable(): string {
  const rows = (Object.keys(reasons) as Array<keyof typeof reasons>).map((reason) => {
    const info = reasons[reason];
    return `| \`${reason}\` | ${info.code} ${codeName(info.code).toUpperCase()} | ${info.advice.replaceAll("|", "\\|")} | ${doctorCell(reason)} |`;
  });
  return [
    "| reason | gRPC status | meaning and what to do | doctor step that confirms it |",
    "| --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

/** The README with its table between the reasons markers replaced. */
export function withReasonsTable(readme: string): string {
  return readme.replace(
    /(<!-- reasons:start -->\n)[\s\S]*?(<!-- reasons:end -->)/,
    `$1${reasonsTable()}\n$2`,
  );
}
