/**
 * A refusal the router turns into a response. Receivers and checks throw it
 * wherever they are, instead of threading responses back up by hand.
 *
 * @module
 */

import { RaftHttpError } from "../errors.ts";

/** An HTTP error reply, with the status etcd uses for the case. */
export class HttpError extends RaftHttpError {
  /** The HTTP status. */
  readonly status: number;
  /** The body text (one line; a newline is added, as Go's `http.Error` does). */
  readonly text: string;
  /** Headers this reply carries beyond the route's own (`Allow`, ...). */
  readonly headers: Record<string, string>;

  /** Creates the refusal. */
  constructor(status: number, text: string, headers: Record<string, string> = {}) {
    super(`${status} ${text}`);
    this.status = status;
    this.text = text;
    this.headers = headers;
  }

  /** The reply as Go's `http.Error` writes it, with `headers` set first. */
  toResponse(headers: Record<string, string> = {}): Response {
    return new Response(this.text + "\n", {
      status: this.status,
      headers: {
        ...headers,
        ...this.headers,
        "Content-Type": "text/plain; charset=utf-8",
        "X-Content-Type-Options": "nosniff",
      },
    });
  }
}
