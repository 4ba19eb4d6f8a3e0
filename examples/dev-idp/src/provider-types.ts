/** The part of oidc-provider's API the dev provider uses (it ships no types). */
import type { IncomingMessage, ServerResponse } from "node:http";

export interface Interaction {
  readonly uid: string;
  readonly params: Record<string, unknown>;
  readonly prompt: {
    readonly name: string;
    readonly details: {
      readonly missingOIDCScope?: string[];
      readonly missingOIDCClaims?: string[];
      readonly missingResourceScopes?: Record<string, string[]>;
    };
  };
  readonly session?: { readonly accountId?: string };
  readonly grantId?: string;
}

export interface Grant {
  addOIDCScope(scope: string): void;
  rejectOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(resource: string, scope: string): void;
  rejectResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}

interface EventContext {
  readonly oidc: { readonly params?: Record<string, unknown> };
}

export interface OidcProvider {
  proxy: boolean;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: object,
    options: { mergeWithLastSubmission: boolean },
  ): Promise<void>;
  readonly Grant: {
    new (init: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant>;
  };
  on(event: "grant.success", listener: (ctx: EventContext) => void): void;
  on(event: "grant.error", listener: (ctx: EventContext, err: { error?: string }) => void): void;
}

export type ProviderConstructor = new (issuer: string, config: object) => OidcProvider;
