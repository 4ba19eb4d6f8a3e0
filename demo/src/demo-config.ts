/**
 * What the demo configures: the gateway's policy (the part that makes the
 * users' difference visible) and the scopes the page asks for.
 */
import type { DevPki } from "@grpc-edge/example-upstream";

export const NOTES = "demo.notes.v1.NotesService";

/** What the page asks the provider for. */
export const demoScope = "openid offline_access notes:read notes:write notes:delete";

/**
 * Health is public; reading notes needs a valid token; writing needs
 * notes:write and deleting notes:delete (which only alice has).
 */
export const demoRules = [
  { methods: ["/grpc.health.v1.Health/*"], policy: "public" },
  { methods: [`/${NOTES}/CreateNote`], scopes: ["notes:write"] },
  { methods: [`/${NOTES}/DeleteNote`], scopes: ["notes:delete"] },
  { methods: [`/${NOTES}/*`], policy: "authenticated" },
];

export interface GatewayConfigInput {
  readonly host: string;
  readonly port: number;
  readonly webOrigins: readonly string[];
  readonly upstreamUrl: string;
  readonly pki: DevPki;
  readonly issuer: string;
  readonly audience: string;
  readonly logLevel: string;
  readonly dpop: boolean;
}

/** The gateway's config, as its YAML would say it. */
export function demoGatewayConfig(input: GatewayConfigInput): Record<string, unknown> {
  return {
    listen: { host: input.host, port: input.port },
    cors: {
      allowedOrigins: [...input.webOrigins],
      // The page sends a forged x-auth-subject to show that the gateway drops
      // it: identity reaches the upstream only from a verified token.
      allowedHeaders: ["x-auth-subject"],
    },
    upstreams: [
      {
        name: "notes",
        address: input.upstreamUrl,
        services: [NOTES, "grpc.health.v1.Health"],
        tls: {
          caFile: input.pki.caFile,
          certFile: input.pki.clientCertFile,
          keyFile: input.pki.clientKeyFile,
          serverName: "localhost",
        },
      },
    ],
    auth: {
      issuers: [{ issuer: input.issuer, audiences: [input.audience] }],
      defaultPolicy: "deny",
      rules: demoRules,
      // --dpop: only DPoP-bound tokens, each call with a fresh proof, and a server nonce.
      ...(input.dpop ? { dpop: { mode: "required", requireNonce: true } } : {}),
    },
    log: { level: input.logLevel },
  };
}
