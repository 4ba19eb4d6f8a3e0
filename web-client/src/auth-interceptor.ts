import {
  Code,
  ConnectError,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
} from "@connectrpc/connect";
import { gatewayOrigin, pageUrl } from "./gateway-origin.ts";
import { LoginRequiredError } from "./login-required-error.ts";

/** Where the interceptor gets tokens: an `Auth` from createAuth, or your own. */
export interface AccessTokenSource {
  /** A token valid for a while yet; rejects when there is none. */
  getAccessToken(): Promise<string>;
  /** The gateway refused `rejected`: a newer token to retry with (refreshing if needed). */
  replaceAccessToken?(rejected: string): Promise<string>;
}

export interface AuthInterceptorOptions {
  /** The gateway's base URL: tokens go to its origin and nowhere else. Default: the page's origin. */
  readonly baseUrl?: string;
}

/**
 * A connect interceptor that sends `authorization: Bearer <token>` on every
 * call to the gateway's origin, unary and server streaming. On 16
 * UNAUTHENTICATED from a unary call, or from a stream before its first
 * message, it gets a newer token once (refreshing only if the rejected one is
 * still current) and retries once; a second refusal reaches the caller.
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

  return (next) => async (req) => {
    const target = new URL(req.url, page).origin;
    if (target !== allowed) {
      throw new ConnectError(
        `grpc-edge: not sending a token to ${target}: tokens go only to the gateway at ${allowed}`,
        Code.FailedPrecondition,
      );
    }
    const retryable = (err: unknown) =>
      err instanceof ConnectError &&
      err.code === Code.Unauthenticated &&
      !(err instanceof LoginRequiredError) &&
      !req.signal.aborted;
    let token = await auth.getAccessToken();

    if (!req.stream) {
      req.header.set("authorization", `Bearer ${token}`);
      try {
        return await next(req);
      } catch (err) {
        if (!retryable(err)) throw err;
        req.header.set("authorization", `Bearer ${await renew(token)}`);
        return next(req);
      }
    }

    // The request message is read once and replayed, so a retry can send it again.
    const first = await req.message[Symbol.asyncIterator]().next();
    const send = (bearer: string): Promise<StreamResponse> => {
      req.header.set("authorization", `Bearer ${bearer}`);
      return next({ ...req, message: replay(first) } as StreamRequest) as Promise<StreamResponse>;
    };
    let res: StreamResponse;
    try {
      res = await send(token);
    } catch (err) {
      if (!retryable(err)) throw err;
      token = await renew(token);
      return send(token);
    }
    return {
      ...res,
      message: retryBeforeFirstMessage(res, retryable, async () => send(await renew(token))),
    };
  };
}

async function* replay<T>(first: IteratorResult<T>): AsyncGenerator<T> {
  if (first.done !== true) yield first.value;
}

/** A stream whose first read fails with 16 is retried once; later failures pass through. */
async function* retryBeforeFirstMessage<T>(
  res: StreamResponse,
  retryable: (err: unknown) => boolean,
  retry: () => Promise<StreamResponse>,
): AsyncGenerator<T> {
  let received = false;
  try {
    for await (const message of res.message) {
      received = true;
      yield message as T;
    }
  } catch (err) {
    if (received || !retryable(err)) throw err;
    const second = await retry();
    for await (const message of second.message) yield message as T;
    second.trailer.forEach((value, key) => {
      res.trailer.set(key, value);
    });
  }
}
