/**
 * @grpc-edge/example-upstream: the example demo.notes.v1.NotesService behind
 * the gateway, on connect-node and on @grpc/grpc-js, over HTTP/2 with mutual
 * TLS, and the dev PKI both sides use.
 */
export { startConnectUpstream } from "./connect-server.ts";
export { type GrpcJsService, toGrpcJsService } from "./grpc-js-adapter.ts";
export { startGrpcJsUpstream } from "./grpc-js-server.ts";
export { createHealthService, type HealthControl, type HealthService } from "./health-service.ts";
export {
  authSubjectHeader,
  createNotesService,
  defaultWatchIntervalMs,
  maxDownloadChunkBytes,
} from "./notes-service.ts";
export { createNotesStore, type NotesStore, type NotesStoreOptions } from "./notes-store.ts";
export {
  type CertificateAuthority,
  type CertificateAuthorityOptions,
  createCertificateAuthority,
  type DevPki,
  type DevPkiOptions,
  type DevPkiPem,
  defaultDevPkiDir,
  devPkiMinRemainingMs,
  ensureDevPki,
  gatewayClientCommonName,
  generateDevPkiPem,
  type IssueCertificateOptions,
  type IssuedCertificate,
  issueCertificate,
  loadCertificateAuthority,
} from "./pki.ts";
export type {
  RunningUpstream,
  UpstreamOptions,
  UpstreamTlsPem,
} from "./upstream.ts";
