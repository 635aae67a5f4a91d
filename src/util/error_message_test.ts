import { assertEquals } from "@std/assert";
import { errorMessage, failureReason } from "./error_message.ts";

Deno.test("errorMessage: an Error gives its message, without the name", () => {
  assertEquals(errorMessage(new Error("boom")), "boom");
  assertEquals(errorMessage(new TypeError("bad type")), "bad type");
});

Deno.test("errorMessage: anything else thrown gives its string form", () => {
  assertEquals(errorMessage("plain string"), "plain string");
  assertEquals(errorMessage(42), "42");
  assertEquals(errorMessage(undefined), "undefined");
  assertEquals(errorMessage(null), "null");
  assertEquals(errorMessage({ toString: () => "custom" }), "custom");
});

Deno.test("failureReason: a signal not aborted gives the thrown error's message", () => {
  const ac = new AbortController();
  assertEquals(failureReason(ac.signal, new Error("connection refused")), "connection refused");
  assertEquals(failureReason(ac.signal, "text"), "text");
});

Deno.test("failureReason: an aborted signal gives the abort reason, not the thrown error", () => {
  const ac = new AbortController();
  ac.abort(new Error("dial timeout after 2000 ms"));
  assertEquals(
    failureReason(ac.signal, new DOMException("The signal has been aborted", "AbortError")),
    "dial timeout after 2000 ms",
  );
  const ac2 = new AbortController();
  ac2.abort("stopped");
  assertEquals(failureReason(ac2.signal, new Error("other")), "stopped");
});

Deno.test("failureReason: AbortSignal.abort(reason) gives that reason", () => {
  const s = AbortSignal.abort(new Error("my own reason"));
  assertEquals(failureReason(s, new Error("ignored")), "my own reason");
});
