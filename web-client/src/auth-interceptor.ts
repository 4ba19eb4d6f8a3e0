import {
  Code,
  ConnectError,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
} from "@connectrpc/connect";
import { gatewayOrigin, pageUrl } from "./gateway-origin.ts";
import { LoginRequiredError } from "./login-required-error.ts";

/** What a DPoP proof is made for (RFC 9449 §4.2). */
export interface DpopProofRequest {
  /** `htu`: the call's URL without query and fragment. */
  readonly url: string;
  /** `htm`. */
  readonly method: string;
  /** The token the proof goes with (`ath`). */
  readonly accessToken: string;
  /** The gateway's latest `dpop-nonce`, if it sent one. */
  readonly nonce?: string | undefined;
}

/** Where the interceptor gets tokens: an `Auth` from createAuth, or your own. */
export interface AccessTokenSource {
  /** A token valid for a while yet; rejects when there is none. */
  getAccessToken(): Promise<string>;
  /** The gateway refused `rejected`: a newer token to retry with (refreshing if needed). */
  replaceAccessToken?(rejected: string): Promise<string>;
  /** A DPoP proof when the token is DPoP-bound (sent as `authorization: DPoP`), else undefined (Bearer). */
  dpopProof?(request: DpopProofRequest): Promise<string | undefined>;
}

export interface AuthInterceptorOptions {
  /** The gateway's base URL: tokens go to its origin and nowhere else. Default: the page's origin. */
  readonly baseUrl?: string;
}

/**
 * A connect interceptor that authorizes every call to the gateway's origin,
 * unary and server streaming: `authorization: Bearer <token>`, or for a
 * DPoP-bound token `authorization: DPoP <token>` with a fresh `dpop` proof.
 * On 16 UNAUTHENTICATED from a unary call, or from a stream before its first
 * message, it retries at most once with a newer token (refreshing only if the
 * refused one is still current) and, for DPoP, at most once with the nonce
 * the gateway asked for; then the refusal reaches the caller.
 */
export function createAuthInterceptor(
  auth: AccessTokenSource,
  options: AuthInterceptorOptions = {},
): Interceptor {
  const page = pageUrl();
  const base = options.baseUrl ?? page;
  if (base === undefined) {
    throw new TypeError(
      "grpc-edge: createAuthInterceptor needs options.baseUrl outside a browser page",
    );
  }
  const allowed = gatewayOrigin(base, page);
  const renew = (rejected: string) =>
    auth.replaceAccessToken ? auth.replaceAccessToken(rejected) : auth.getAccessToken();
  // The gateway's DPoP nonce (RFC 9449 §9), kept for later calls to it.
  let nonce: string | undefined;
  const noteNonce = (headers: Headers) => {
    nonce = headers.get("dpop-nonce") ?? nonce;
  };

  return (next) => async (req) => {
    const target = new URL(req.url, page);
    if (target.origin !== allowed) {
      throw new ConnectError(
        `grpc-edge: not sending a token to ${target.origin}: tokens go only to the gateway at ${allowed}`,
        Code.FailedPrecondition,
      );
    }
    const htu = `${target.origin}${target.pathname}`;
    let token = await auth.getAccessToken();
    let nonceRetry = true;
    let tokenRetry = true;

    const authorize = async () => {
      const proof = await auth.dpopProof?.({
        url: htu,
        method: req.requestMethod,
        accessToken: token,
        nonce,
      });
      req.header.set("authorization", `${proof ? "DPoP" : "Bearer"} ${token}`);
      if (proof) req.header.set("dpop", proof);
      else req.header.delete("dpop");
    };
    /** Whether a refusal is worth one more attempt; updates the token or nonce for it. */
    const retryAfter = async (err: unknown): Promise<boolean> => {
      if (!(err instanceof ConnectError) || err.code !== Code.Unauthenticated) return false;
      if (err instanceof LoginRequiredError || req.signal.aborted) return false;
      noteNonce(err.metadata);
      if (/error="use_dpop_nonce"/.test(err.metadata.get("www-authenticate") ?? "")) {
        const retry = nonceRetry && nonce !== undefined;
        nonceRetry = false;
        return retry;
      }
      if (!tokenRetry) return false;
      tokenRetry = false;
      token = await renew(token);
      return true;
    };
    async function attempt<R extends { header: Headers }>(send: () => Promise<R>): Promise<R> {
      for (;;) {
        await authorize();
        try {
          const res = await send();
          noteNonce(res.header);
          return res;
        } catch (err) {
          if (!(await retryAfter(err))) throw err;
        }
      }
    }

    if (!req.stream) return attempt(() => next(req));

    // The request message is read once and replayed, so a retry can send it again.
    const first = await req.message[Symbol.asyncIterator]().next();
    const send = () =>
      attempt(
        () => next({ ...req, message: replay(first) } as StreamRequest) as Promise<StreamResponse>,
      );
    const res = await send();
    return { ...res, message: retryBeforeFirstMessage(res, retryAfter, send) };
  };
}

async function* replay<T>(first: IteratorResult<T>): AsyncGenerator<T> {
  if (first.done !== true) yield first.value;
}

/** A stream whose first read fails with a retryable refusal is sent again; later failures pass through. */
async function* retryBeforeFirstMessage<T>(
  res: StreamResponse,
  retryAfter: (err: unknown) => Promise<boolean>,
  send: () => Promise<StreamResponse>,
): AsyncGenerator<T> {
  let received = false;
  try {
    for await (const message of res.message) {
      received = true;
      yield message as T;
    }
  } catch (err) {
    if (received || !(await retryAfter(err))) throw err;
    const second = await send();
    yield* retryBeforeFirstMessage<T>(second, retryAfter, send);
    second.trailer.forEach((value, key) => {
      res.trailer.set(key, value);
    });
  }
}
