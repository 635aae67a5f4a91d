// Certificates made with openssl inside a test, in the test's temporary
// directory: CAs, and X.509 v3 certificates they sign (-extfile) with the
// CN and SANs a test chooses, usable as server and client certificates.

export const hasOpenssl = (() => {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync()
      .success;
  } catch {
    return false;
  }
})();

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** A certificate and its key: PEM text and the files they are in. */
export interface Cert {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** A self-signed CA named `name` (files `<name>.pem`, `<name>.key` in `dir`). */
export async function makeCa(dir: string, name: string): Promise<Cert> {
  await openssl(
    dir,
    "req",
    "-x509",
    ...EC,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "1",
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  return read(dir, name);
}

/**
 * A certificate `name` signed by the CA `ca` (made by {@link makeCa} in the
 * same `dir`), with subject CN `cn` and the SANs `san` ("IP:127.0.0.1",
 * "DNS:localhost"), for server and client authentication.
 */
export async function makeCert(
  dir: string,
  ca: string,
  name: string,
  cn: string,
  san: string[],
): Promise<Cert> {
  await openssl(
    dir,
    "req",
    ...EC,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${cn}`,
  );
  await Deno.writeTextFile(
    `${dir}/${name}.ext`,
    (san.length > 0 ? `subjectAltName=${san.join(",")}\n` : "") +
      "keyUsage=critical,digitalSignature,keyEncipherment\n" +
      "extendedKeyUsage=serverAuth,clientAuth\n",
  );
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-out",
    `${name}.pem`,
    "-days",
    "1",
    "-extfile",
    `${name}.ext`,
  );
  return read(dir, name);
}

async function read(dir: string, name: string): Promise<Cert> {
  const certFile = `${dir}/${name}.pem`;
  const keyFile = `${dir}/${name}.key`;
  return {
    cert: await Deno.readTextFile(certFile),
    key: await Deno.readTextFile(keyFile),
    certFile,
    keyFile,
  };
}
