/**
 * grpc.health.v1.Health (the standard health protocol the gateway's /readyz
 * asks), with a switch so tests can make the upstream report NOT_SERVING.
 */
import { EventEmitter, on } from "node:events";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "@grpc-edge/proto/grpc/health/v1/health";

/** What a test or an operator may do to a running health service. */
export interface HealthControl {
  /**
   * Sets one served service to SERVING or NOT_SERVING; "" is the server as a
   * whole. Throws for a name the server does not serve.
   */
  setServing(service: string, serving: boolean): void;
  /** The status Check would answer, or undefined for an unknown service. */
  status(service: string): ServingStatus | undefined;
}

/** The Health implementation and its control. */
export interface HealthService extends HealthControl {
  readonly impl: ServiceImpl<typeof Health>;
}

/**
 * Creates a health service for `services` (fully-qualified names), all
 * SERVING. Check("") is SERVING only while the server and every service are:
 * the gateway's readiness asks "", and an upstream with a sick service is not ready.
 */
export function createHealthService(services: readonly string[]): HealthService {
  const serving = new Map<string, boolean>([
    ["", true],
    ...services.map((s) => [s, true] as const),
  ]);
  const changes = new EventEmitter();
  // One listener per open Watch; there is no fixed bound to warn about.
  changes.setMaxListeners(0);

  const status = (service: string): ServingStatus | undefined => {
    const flag = serving.get(service);
    if (flag === undefined) return undefined;
    const up = service === "" ? [...serving.values()].every(Boolean) : flag;
    return up ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  };

  const impl: ServiceImpl<typeof Health> = {
    check(request) {
      const current = status(request.service);
      if (current === undefined) {
        throw new ConnectError(`unknown service "${request.service}"`, Code.NotFound);
      }
      return { status: current };
    },
    /**
     * Per the health protocol: the current status at once (SERVICE_UNKNOWN
     * rather than an error for an unknown name), then each change, until the
     * client cancels (the call's signal ends the wait).
     */
    async *watch(request, context) {
      let last = status(request.service) ?? ServingStatus.SERVICE_UNKNOWN;
      yield { status: last };
      for await (const _ of on(changes, "change", { signal: context.signal })) {
        const next = status(request.service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (next !== last) {
          last = next;
          yield { status: next };
        }
      }
    },
  };

  return {
    impl,
    status,
    setServing(service, up) {
      if (!serving.has(service)) throw new RangeError(`not a served service: "${service}"`);
      serving.set(service, up);
      changes.emit("change");
    },
  };
}
