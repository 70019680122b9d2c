// The Worker's bindings (wrangler.toml) and the typed per-request variables passed by middleware.
export interface Env {
  /** Model files: `<model-id>/model.json` plus the files it names. */
  MODELS: R2Bucket;
  DEFAULT_MODEL?: string;
}

export interface Vars {
  requestId: string;
}

export type AppEnv = { Bindings: Env; Variables: Vars };
