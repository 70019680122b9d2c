// Grammar room: the one error type. The routes turn it into a 400 that names `keyword` and `path`.

export class GrammarError extends Error {
  override name = 'GrammarError';
  constructor(
    message: string,
    /** The offending JSON Schema keyword (or construct, e.g. a regex feature). */
    readonly keyword: string,
    /** JSON pointer of the schema node that holds it, e.g. `#/properties/tags/items`. */
    readonly path: string,
  ) {
    super(`${message} (keyword "${keyword}" at ${path})`);
  }
}
