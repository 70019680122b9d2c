-- Each request's latency as the Worker measured it (protocol/latency.ts): milliseconds from the
-- request's arrival to its first output token, and completion tokens per second after it. NULL
-- where nothing was measured: rows from before this migration, requests that produced no token,
-- a decode whose clock did not move (workerd's clock advances on I/O only) or of one token.
-- /v1/usage reports their p50 and p95 per day and model (billing/latency-report.ts).
ALTER TABLE ledger ADD COLUMN ttft_ms REAL;
ALTER TABLE ledger ADD COLUMN decode_tps REAL;
