import { assert, assertEquals } from "@std/assert";
import { HttpError } from "./http_error.ts";
import { RaftHttpError } from "../errors.ts";

Deno.test("HttpError: carries status, text and headers; message is 'status text'", () => {
  const e = new HttpError(404, "invalid path");
  assert(e instanceof RaftHttpError);
  assertEquals(e.name, "HttpError");
  assertEquals(e.status, 404);
  assertEquals(e.text, "invalid path");
  assertEquals(e.headers, {});
  assertEquals(e.message, "404 invalid path");
});

Deno.test("HttpError.toResponse: status, text plus newline, plain text, nosniff", async () => {
  const res = new HttpError(412, "cluster ID mismatch").toResponse();
  assertEquals(res.status, 412);
  assertEquals(await res.text(), "cluster ID mismatch\n");
  assertEquals(res.headers.get("Content-Type"), "text/plain; charset=utf-8");
  assertEquals(res.headers.get("X-Content-Type-Options"), "nosniff");
});

Deno.test("HttpError.toResponse: route headers merged with its own, its own winning", async () => {
  const e = new HttpError(405, "Method Not Allowed", { Allow: "POST" });
  const res = e.toResponse({
    "X-Etcd-Cluster-ID": "cafe",
    "X-Server-Version": "3.4.23",
    Allow: "GET",
    "Content-Type": "application/json",
  });
  assertEquals(res.status, 405);
  assertEquals(res.headers.get("X-Etcd-Cluster-ID"), "cafe");
  assertEquals(res.headers.get("X-Server-Version"), "3.4.23");
  assertEquals(res.headers.get("Allow"), "POST");
  assertEquals(res.headers.get("Content-Type"), "text/plain; charset=utf-8");
  assertEquals(await res.text(), "Method Not Allowed\n");
});

Deno.test("HttpError.toResponse: each call gives a fresh, readable response", async () => {
  const e = new HttpError(503, "busy");
  const a = e.toResponse();
  const b = e.toResponse();
  assertEquals(await a.text(), "busy\n");
  assertEquals(await b.text(), "busy\n");
});
