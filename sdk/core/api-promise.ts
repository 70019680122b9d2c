// The promise every call returns: await it for the parsed body, or `.withResponse()` to also get
// the HTTP response and what its headers say (request id, where it ran), or `.asResponse()` for
// the raw response alone, its body still readable.

export interface RawResponse {
  response: Response;
  controller: AbortController;
  /** The body text of a non-streamed response, already read inside the retry loop. */
  text?: string;
}

export interface WithResponse<T> {
  data: T;
  response: Response;
  requestId: string | null;
  /** Where the request ran, e.g. `edge:stories260k`. */
  servedBy: string | null;
}

// `reason: any`, as in the standard Promise typings, so that `.catch((e) => e)` reads like any promise.
export class APIPromise<T> implements PromiseLike<T> {
  private parsed: Promise<T> | undefined;

  constructor(
    private readonly raw: Promise<RawResponse>,
    private readonly parse: (raw: RawResponse) => T | Promise<T>,
  ) {}

  asResponse(): Promise<Response> {
    // A JSON response's body was read inside the retry loop; hand back a fresh copy of it.
    return this.raw.then(({ response, text }) =>
      text === undefined
        ? response
        : new Response(text, {
            status: response.status,
            statusText: response.statusText,
            headers: response.headers,
          }),
    );
  }

  async withResponse(): Promise<WithResponse<T>> {
    const [data, { response }] = await Promise.all([this.value(), this.raw]);
    return {
      data,
      response,
      requestId: response.headers.get('x-request-id'),
      servedBy: response.headers.get('x-served-by'),
    };
  }

  then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: any) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.value().then(onfulfilled, onrejected);
  }

  catch<B = never>(onrejected?: ((reason: any) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.value().catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.value().finally(onfinally);
  }

  private value(): Promise<T> {
    return (this.parsed ??= this.raw.then(this.parse));
  }
}
