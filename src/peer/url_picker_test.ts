import { assertEquals } from "@std/assert";
import { UrlPicker } from "./url_picker.ts";

const A = "http://10.0.0.1:2380";
const B = "http://10.0.0.2:2380";
const C = "https://10.0.0.3:2380";

Deno.test("UrlPicker: sticks to the first URL until it fails", () => {
  const p = new UrlPicker([A, B, C]);
  assertEquals(p.pick(), A);
  assertEquals(p.pick(), A);
  assertEquals(p.urls, [A, B, C]);
});

Deno.test("UrlPicker: unreachable moves to the next URL and wraps around", () => {
  const p = new UrlPicker([A, B, C]);
  p.unreachable(A);
  assertEquals(p.pick(), B);
  p.unreachable(B);
  assertEquals(p.pick(), C);
  p.unreachable(C);
  assertEquals(p.pick(), A);
});

Deno.test("UrlPicker: a stale failure report (not the current URL) does not advance", () => {
  const p = new UrlPicker([A, B, C]);
  // Many workers report the same failed URL: it advances once.
  p.unreachable(A);
  p.unreachable(A);
  p.unreachable(A);
  assertEquals(p.pick(), B);
  p.unreachable("http://10.0.0.9:2380");
  assertEquals(p.pick(), B);
});

Deno.test("UrlPicker: a single URL stays picked after failures", () => {
  const p = new UrlPicker([A]);
  p.unreachable(A);
  assertEquals(p.pick(), A);
});

Deno.test("UrlPicker: update replaces the URLs and starts over from the first", () => {
  const p = new UrlPicker([A, B]);
  p.unreachable(A);
  assertEquals(p.pick(), B);
  p.update([C, A]);
  assertEquals(p.urls, [C, A]);
  assertEquals(p.pick(), C);
  p.unreachable(C);
  assertEquals(p.pick(), A);
});
