/**
 * What the doctor's tests diagnose: the dev PKI, a real upstream over
 * mTLS, a real OpenID provider (and a second one the config does not
 * trust), and config files written as the CLI reads them.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningUpstream, startConnectUpstream } from "@grpc-edge/example-upstream";
import { stringify } from "yaml";
import { type DoctorOptions, runDoctor } from "../../src/doctor/doctor.ts";
import type { Check, DoctorReport } from "../../src/doctor/report.ts";
import { startOidcProvider, type TestOidcProvider } from "../support/oidc-provider.ts";
import { gatewayConfig, type TestPki, testPki } from "../support/stack.ts";

export const NOTES = "/demo.notes.v1.NotesService";
export const APP_ORIGIN = "http://localhost:5173";

export interface DoctorFixture {
  readonly pki: TestPki;
  readonly idp: TestOidcProvider;
  /** A provider the config does not trust. */
  readonly other: TestOidcProvider;
  readonly upstream: RunningUpstream;
  readonly dir: string;
  /** The raw config (as YAML would say), with `extra` merged at the top level. */
  config(extra?: Record<string, unknown>): Record<string, unknown>;
  /** Writes a raw config as YAML; returns its path. */
  write(raw: Record<string, unknown>, name?: string): string;
  /** Runs the doctor on a config written from `raw`. */
  run(
    raw: Record<string, unknown>,
    options?: Omit<DoctorOptions, "configFile" | "env">,
  ): Promise<DoctorReport>;
  close(): Promise<void>;
}

/** The auth section: ES256 access tokens for the provider's resource, the README's rules. */
export function authSection(idp: TestOidcProvider, extra: Record<string, unknown> = {}) {
  return {
    issuers: [
      { issuer: idp.issuer, audiences: [idp.resource], algorithms: ["ES256"], tokenType: "at+jwt" },
    ],
    rules: [
      { methods: ["/grpc.health.v1.Health/*"], policy: "public" },
      { methods: [`${NOTES}/DeleteNote`], scopes: ["notes:admin"] },
      { methods: [`${NOTES}/*`], policy: "authenticated" },
    ],
    ...extra,
  };
}

export async function startDoctorFixture(): Promise<DoctorFixture> {
  const pki = await testPki();
  const [idp, other, upstream] = await Promise.all([
    startOidcProvider(),
    startOidcProvider(),
    startConnectUpstream({ tls: pki }),
  ]);
  const dir = mkdtempSync(join(tmpdir(), "gw-doctor-"));
  let written = 0;
  const write = (raw: Record<string, unknown>, name = `gateway-${written++}.yaml`) => {
    const path = join(dir, name);
    writeFileSync(path, stringify(raw));
    return path;
  };
  return {
    pki,
    idp,
    other,
    upstream,
    dir,
    config: (extra = {}) =>
      gatewayConfig(pki, upstream.url, {
        listen: { host: "127.0.0.1", port: 0 },
        auth: authSection(idp),
        ...extra,
      }),
    write,
    run: (raw, options = {}) => runDoctor({ configFile: write(raw), env: {}, ...options }),
    async close() {
      await Promise.all([upstream.close(), idp.close(), other.close()]);
    },
  };
}

/** The check with this id; fails the test when the report has none. */
export function checkOf(report: DoctorReport, id: string): Check {
  const found = report.steps.flatMap((s) => s.checks).find((c) => c.id === id);
  assert.ok(
    found,
    `no check ${id} in ${JSON.stringify(report.steps.flatMap((s) => s.checks.map((c) => c.id)))}`,
  );
  return found;
}

/** Asserts a check's status and, for a failure, its reason. */
export function assertCheck(
  report: DoctorReport,
  id: string,
  status: Check["status"],
  reason?: string,
) {
  const check = checkOf(report, id);
  assert.equal(check.status, status, `${id}: ${check.detail}`);
  if (reason !== undefined) assert.equal(check.reason, reason, `${id}: ${check.detail}`);
  if (status === "fail" || status === "warn") assert.ok(check.fix, `${id} has a fix`);
  return check;
}
