// The request id of both Hono apps (the Worker's routes and the origin's server): the caller's
// `x-request-id` when it is a sane token (so the Worker's id follows a request onto its origin),
// else a fresh UUID; handlers read it as `c.get('requestId')`, and every response carries it.
import { requestId as honoRequestId } from 'hono/request-id';

/** Longest caller-chosen id kept; longer ones (or ones with other than [A-Za-z0-9_=-]) are replaced. */
export const MAX_REQUEST_ID = 128;

export const requestId = () =>
  honoRequestId({ headerName: 'x-request-id', limitLength: MAX_REQUEST_ID });
