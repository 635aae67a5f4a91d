/**
 * The one way to turn whatever was thrown into the text a log line or an
 * error message carries (or into an Error).
 *
 * @module
 */

/** The message of an Error, or the string form of anything else thrown. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** `e` itself if it is an Error, else an Error carrying its string form. */
export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Why an operation under `signal` failed: the abort reason when we aborted
 * it (a timeout we set, a stop), else the error it threw.
 */
export function failureReason(signal: AbortSignal, e: unknown): string {
  return errorMessage(signal.aborted ? signal.reason : e);
}
