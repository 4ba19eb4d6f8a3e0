/**
 * A configuration problem found at start-up. It names the key (dotted path,
 * e.g. `upstreams[0].tls.caFile`) and says how to fix it; the CLI prints it
 * and exits 78 (EX_CONFIG) before listening.
 */
export class ConfigError extends Error {
  readonly key: string;

  constructor(key: string, message: string) {
    super(`config: ${key}: ${message}`);
    this.name = "ConfigError";
    this.key = key;
  }
}
