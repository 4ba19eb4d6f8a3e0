/**
 * Step 1: the config loads with every check start-up and `--check` make,
 * and each certificate file is looked at on its own (validity, key, names,
 * usage), so that one expired file does not hide the others. With
 * `--method`, the method routes to an upstream.
 */
import type { X509Certificate } from "node:crypto";
import { type GatewayConfig, loadConfig } from "../config/config.ts";
import { ConfigError } from "../config/config-error.ts";
import { GatewayError } from "../errors.ts";
import { createRouter, parseMethodPath } from "../routing/router.ts";
import {
  clientUsageCheck,
  keyCheck,
  namesCheck,
  readCertificates,
  validityCheck,
} from "./certificate-check.ts";
import { type Check, fail, failWith, pass, warn } from "./report.ts";

export interface ConfigCheckOptions {
  readonly configFile: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly method: string | undefined;
  readonly gateway: URL | undefined;
  readonly nowMs: number;
}

/** The config when it loaded (maybe with TLS files start-up would refuse), and the checks. */
export function checkConfig(options: ConfigCheckOptions): {
  readonly checks: Check[];
  readonly config: GatewayConfig | undefined;
} {
  const where = options.configFile ?? "(no file: defaults and GATEWAY_* variables)";
  const title = "config loads";
  let config: GatewayConfig;
  const checks: Check[] = [];
  try {
    config = loadConfig(options.configFile, options.env);
    checks.push(pass("config", title, `${where}: ${summary(config)}`));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const refused = fail({
      id: "config",
      title,
      detail: err.message,
      fix: configFix(err.key, where),
    });
    // Start-up refuses a certificate file's contents: the checks below say which and why.
    if (!/^(listen\.tls|upstreams\[\d+\]\.tls)$/.test(err.key))
      return { checks: [refused], config: undefined };
    checks.push(refused);
    config = loadConfig(options.configFile, options.env, { checkTlsMaterial: false });
  }
  checks.push(...listenerChecks(config, options), ...upstreamFileChecks(config, options.nowMs));
  if (options.method !== undefined) checks.push(routeCheck(config, options.method));
  return { checks, config };
}

/** Start-up refuses the same config (exit 78): where to change it. */
function configFix(key: string, where: string): string {
  if (key === "--config")
    return "give --config (or GATEWAY_CONFIG) the path of a readable YAML file";
  if (key.startsWith("GATEWAY_")) return `rename or remove the environment variable ${key}`;
  return `edit ${key} in ${where} (or its GATEWAY_* variable); start-up refuses this config with exit code 78`;
}

function summary(config: GatewayConfig): string {
  const scheme = config.listen.tls === undefined ? "http" : "https";
  const issuers = config.auth?.issuers.length ?? 0;
  return `listener ${scheme}, ${config.upstreams.length} upstream(s), ${config.auth === undefined ? "no auth section" : `${issuers} issuer(s)`}`;
}

/** Runs `read`, or turns its error into a failed check. */
function readOr(
  id: string,
  title: string,
  read: () => X509Certificate[],
): X509Certificate[] | Check {
  try {
    return read();
  } catch (err) {
    return fail({
      id,
      title,
      detail: (err as Error).message,
      fix: "point the key at a readable PEM file",
    });
  }
}

function listenerChecks(config: GatewayConfig, options: ConfigCheckOptions): Check[] {
  const files = config.listen.tls;
  if (files === undefined) return [];
  const title = `listener certificate ${files.certFile}`;
  const certs = readOr("listener.certificate", title, () => readCertificates(files.certFile));
  if (!Array.isArray(certs)) return [certs];
  const leaf = certs[0] as X509Certificate;
  const gatewayHost =
    options.gateway?.protocol === "https:"
      ? options.gateway.hostname.replace(/^\[|\]$/g, "")
      : undefined;
  return [
    validityCheck(
      "listener.certificate",
      title,
      leaf,
      options.nowMs,
      `renew ${files.certFile} and its key; the gateway reloads them without a restart`,
    ),
    keyCheck("listener.key", "listener key", leaf, files.keyFile),
    namesCheck(
      "listener.names",
      "listener certificate names",
      leaf,
      gatewayHost === undefined ? [] : [gatewayHost],
    ),
  ];
}

function upstreamFileChecks(config: GatewayConfig, nowMs: number): Check[] {
  return config.upstreams.flatMap((upstream, i) => {
    const key = `upstreams[${i}].tls`;
    const prefix = `upstream.${upstream.name}`;
    const checks: Check[] = [];
    const caTitle = `${upstream.name}: CA file ${upstream.tls.caFile}`;
    const cas = readOr(`${prefix}.ca`, caTitle, () => readCertificates(upstream.tls.caFile));
    checks.push(
      Array.isArray(cas)
        ? bundleCheck(
            `${prefix}.ca`,
            caTitle,
            cas,
            nowMs,
            `put the upstream's current CA in ${key}.caFile`,
          )
        : cas,
    );
    const certTitle = `${upstream.name}: client certificate ${upstream.tls.certFile}`;
    const certs = readOr(`${prefix}.certificate`, certTitle, () =>
      readCertificates(upstream.tls.certFile),
    );
    if (!Array.isArray(certs)) return [...checks, certs];
    const leaf = certs[0] as X509Certificate;
    const validity = validityCheck(
      `${prefix}.certificate`,
      certTitle,
      leaf,
      nowMs,
      `renew ${key}.certFile and keyFile; the gateway reloads them without a restart`,
    );
    checks.push(
      validity.status === "fail" ? { ...validity, reason: "upstream_tls" } : validity,
      clientUsageCheck(`${prefix}.usage`, `${upstream.name}: client certificate usage`, leaf),
      keyCheck(`${prefix}.key`, `${upstream.name}: client key`, leaf, upstream.tls.keyFile),
    );
    return checks;
  });
}

/** A CA bundle fails when no certificate in it is valid now, warns when one is (nearly) out of date. */
function bundleCheck(
  id: string,
  title: string,
  cas: readonly X509Certificate[],
  nowMs: number,
  renew: string,
): Check {
  const each = cas.map((ca) => validityCheck(id, title, ca, nowMs, renew));
  const usable = each.filter((c) => c.status !== "fail");
  if (usable.length === 0) return { ...(each[0] as Check), reason: "upstream_cert_untrusted" };
  const notable = each.find((c) => c.status !== "pass");
  if (notable !== undefined) return warn({ id, title, detail: notable.detail, fix: renew });
  return pass(
    id,
    title,
    cas.length === 1 ? (each[0] as Check).detail : `${cas.length} CAs, all valid`,
  );
}

/** `--method` routes to an upstream (and, with a descriptor set, exists). */
function routeCheck(config: GatewayConfig, method: string): Check {
  const title = `route for ${method}`;
  try {
    const router = createRouter(
      config.upstreams.map((u) => ({ services: u.services, target: u.name })),
      config.descriptors,
    );
    return pass(
      "method.route",
      title,
      `served by upstream ${router.route(parseMethodPath(method))}`,
    );
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return failWith("method.route", title, err.message, err.reason);
  }
}
