/* reserves: the user's check of a reserves-proof/1 inclusion proof (FORMAT §6.3), in the
 * browser. The same numbered steps as `reserves verify`; amounts are BigInt, hashing is
 * WebCrypto SHA-256, parsing is as strict as the CLI's (no duplicate keys, no floats, no
 * negative numbers, FORMAT §2's amount grammar, NFC strings).
 *
 *   window.reservesVerify(proofText, snapshotText, {root}) -> Promise of
 *     {result: "PASS" | "FAIL" | "MALFORMED" | "NOT_ANCHORED", reason, steps, balances, totals}
 *
 * snapshotText is the exchange's snapshot.json (or null); options.root a published root
 * hash (64 hex digits, 0x and upper case accepted) used when there is no snapshot.
 */
"use strict";
(function () {
  const STEPS = {
    1: ["parse", "proof parses and the context is recomputed"],
    2: ["path-shape", "index is within 2^H and the path has H siblings"],
    3: ["leaf", "leaf recomputed from the account's own id, salt and balances"],
    4: ["climb", "path climbed with every sum below 2^128"],
    5: ["root-consistent", "computed root equals the proof's root"],
    6: ["root-published", "proof is for the published snapshot and its root"],
    7: ["padding-siblings", "slot is filled and siblings over empty slots are padding nodes"],
  };
  const U128 = 1n << 128n;
  const MAX_DEPTH = 64;
  const MAX_INT_DIGITS = 40;
  const MAX_PROOF_BYTES = 32 * 1024 * 1024;
  const SYMBOL = /^[A-Z0-9][A-Z0-9._-]{0,31}$/;
  const HEX32 = /^[0-9a-f]{64}$/;
  const AMOUNT = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;
  const CUTOFF = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$/;
  const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

  class Malformed extends Error {}
  const fail = (where, message) => { throw new Malformed(`${where}: ${message}`); };

  /* (1) Strict JSON: the grammar of RFC 8259, an object at the top, no duplicate keys,
   * integers only (non-negative, at most 40 digits), nesting at most 64 deep. */
  function parseJson(text, source) {
    let at = 0;
    const ws = () => { while (at < text.length && " \t\n\r".includes(text[at])) at++; };
    const error = (message) => fail(source, `invalid JSON at offset ${at}: ${message}`);
    function value(depth) {
      if (depth > MAX_DEPTH) error(`nested more than ${MAX_DEPTH} levels deep`);
      ws();
      const c = text[at];
      if (c === "{") return object(depth);
      if (c === "[") return array(depth);
      if (c === '"') return string();
      if (c === "-") error("negative number");
      if (c >= "0" && c <= "9") return number();
      for (const [word, result] of [["true", true], ["false", false], ["null", null]]) {
        if (text.startsWith(word, at)) { at += word.length; return result; }
      }
      return error("expected a value");
    }
    function object(depth) {
      at++;
      const result = new Map();
      ws();
      if (text[at] === "}") { at++; return result; }
      for (;;) {
        ws();
        if (text[at] !== '"') error("expected a key");
        const key = string();
        if (result.has(key)) error(`duplicate key ${JSON.stringify(key)}`);
        ws();
        if (text[at] !== ":") error("expected ':'");
        at++;
        result.set(key, value(depth + 1));
        ws();
        if (text[at] === ",") { at++; continue; }
        if (text[at] === "}") { at++; return result; }
        error("expected ',' or '}'");
      }
    }
    function array(depth) {
      at++;
      const result = [];
      ws();
      if (text[at] === "]") { at++; return result; }
      for (;;) {
        result.push(value(depth + 1));
        ws();
        if (text[at] === ",") { at++; continue; }
        if (text[at] === "]") { at++; return result; }
        error("expected ',' or ']'");
      }
    }
    function string() {
      at++;
      let out = "";
      for (;;) {
        if (at >= text.length) error("unterminated string");
        const c = text[at++];
        if (c === '"') return out;
        if (c < " ") error("control character in a string");
        if (c !== "\\") { out += c; continue; }
        const e = text[at++];
        const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e in simple) { out += simple[e]; continue; }
        if (e !== "u" || !/^[0-9a-fA-F]{4}$/.test(text.slice(at, at + 4))) error("invalid escape");
        out += String.fromCharCode(parseInt(text.slice(at, at + 4), 16));
        at += 4;
      }
    }
    function number() {
      const match = /^(0|[1-9][0-9]*)([.eE]?)/.exec(text.slice(at, at + MAX_INT_DIGITS + 2));
      if (match[2]) error("a number with a fraction or an exponent (amounts are strings)");
      if (match[1].length > MAX_INT_DIGITS) error(`a number of more than ${MAX_INT_DIGITS} digits`);
      if (/[0-9]/.test(text[at + match[1].length] || "")) error(`a number of more than ${MAX_INT_DIGITS} digits`);
      at += match[1].length;
      return BigInt(match[1]);
    }
    if (text.charCodeAt(0) === 0xfeff) fail(source, "starts with a byte-order mark");
    const result = value(0);
    ws();
    if (at !== text.length) error("extra data after the document");
    if (!(result instanceof Map)) fail(source, "the top level must be a JSON object");
    return result;
  }

  /* Typed access to the parsed document, naming the path of what is wrong. */
  function exactly(map, where, keys) {
    if (!(map instanceof Map)) fail(where, "expected an object");
    for (const key of map.keys()) if (!keys.includes(key)) fail(where, `unknown key ${JSON.stringify(key)}`);
    for (const key of keys) if (!map.has(key)) fail(where, `missing key ${JSON.stringify(key)}`);
    return map;
  }
  function str(value, where) {
    if (typeof value !== "string") fail(where, "expected a string");
    return value;
  }
  function int(value, where, low = 0n, high = (1n << 64n) - 1n) {
    if (typeof value !== "bigint") fail(where, "expected an integer");
    if (value < low || value > high) fail(where, `must be ${low} to ${high}, found ${value}`);
    return value;
  }
  function list(value, where) {
    if (!Array.isArray(value)) fail(where, "expected an array");
    return value;
  }
  const encoder = new TextEncoder();
  function text(value, where, what, maxBytes) {
    str(value, where);
    if (LONE_SURROGATE.test(value)) fail(where, `${what} is not valid Unicode`);
    if (value.normalize("NFC") !== value) fail(where, `${what} is not in Unicode NFC`);
    const size = encoder.encode(value).length;
    if (size < 1 || size > maxBytes) fail(where, `${what} must be 1 to ${maxBytes} bytes of UTF-8, found ${size}`);
    return value;
  }
  function hex32(value, where, what) {
    if (!HEX32.test(str(value, where))) fail(where, `${what} must be 64 lowercase hex characters`);
    return value;
  }
  function amount(value, decimals, where) {
    const match = AMOUNT.exec(str(value, where));
    if (!match) fail(where, `amount ${JSON.stringify(value)} is not a plain decimal`);
    const fraction = match[2] || "";
    if (fraction.length > decimals) fail(where, `amount ${value} has more than ${decimals} decimals`);
    const units = BigInt(match[1] + fraction.padEnd(decimals, "0"));
    if (units >= U128) fail(where, `amount ${value} is not below 2^128 smallest units`);
    return units;
  }
  function cutoff(value, where) {
    const match = CUTOFF.exec(str(value, where));
    if (!match) fail(where, `cutoff ${JSON.stringify(value)} is not of the form YYYY-MM-DDTHH:MM:SSZ`);
    const [y, mo, d, h, mi, s] = match.slice(1).map(Number);
    const ms = Date.UTC(y, mo - 1, d, h, mi, s);
    const back = new Date(ms);
    if (y < 1970 || back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d ||
        h > 23 || mi > 59 || s > 59) fail(where, `cutoff ${value} is not a valid date and time`);
    return BigInt(ms / 1000);
  }
  function sums(value, assets, where) {
    exactly(value, where, assets.map((a) => a.symbol));
    return assets.map((a) => amount(value.get(a.symbol), a.decimals, `${where}.${a.symbol}`));
  }
  function commitment(map, where) {
    const assets = list(map.get("assets"), `${where}.assets`).map((item, i) => {
      const at = `${where}.assets[${i}]`;
      exactly(item, at, ["symbol", "decimals"]);
      const symbol = str(item.get("symbol"), `${at}.symbol`);
      if (!SYMBOL.test(symbol)) fail(`${at}.symbol`, `asset symbol ${symbol} does not match [A-Z0-9][A-Z0-9._-]{0,31}`);
      return { symbol, decimals: Number(int(item.get("decimals"), `${at}.decimals`, 0n, 36n)) };
    });
    if (assets.length < 1 || assets.length > 4096) fail(`${where}.assets`, "a snapshot has 1 to 4096 assets");
    if (new Set(assets.map((a) => a.symbol)).size !== assets.length) fail(`${where}.assets`, "an asset is listed twice");
    const root = exactly(map.get("root"), `${where}.root`, ["hash", "sums"]);
    return {
      exchange: text(map.get("exchange"), `${where}.exchange`, "exchange", 200),
      snapshotId: text(map.get("snapshot_id"), `${where}.snapshot_id`, "snapshot_id", 200),
      cutoffText: map.get("cutoff"),
      cutoff: cutoff(map.get("cutoff"), `${where}.cutoff`),
      height: Number(int(map.get("height"), `${where}.height`, 1n, 64n)),
      assets,
      root: { hash: hex32(root.get("hash"), `${where}.root.hash`, "root hash"), sums: sums(root.get("sums"), assets, `${where}.root.sums`) },
    };
  }
  const COMMITMENT_KEYS = ["exchange", "snapshot_id", "cutoff", "height", "assets", "root"];

  function parseProof(proofText) {
    const doc = exactly(parseJson(proofText, "proof"), "proof $", ["format", "snapshot", "account", "path"]);
    if (doc.get("format") !== "reserves-proof/1") fail("proof $.format", "expected 'reserves-proof/1'");
    const snapshot = commitment(exactly(doc.get("snapshot"), "proof $.snapshot", COMMITMENT_KEYS), "proof $.snapshot");
    const account = exactly(doc.get("account"), "proof $.account", ["id", "salt", "index", "balances"]);
    const path = list(doc.get("path"), "proof $.path").map((item, i) => {
      const at = `proof $.path[${i}]`;
      exactly(item, at, ["hash", "sums"]);
      return { hash: hex32(item.get("hash"), `${at}.hash`, "hash"), sums: sums(item.get("sums"), snapshot.assets, `${at}.sums`) };
    });
    if (path.length > 64) fail("proof $.path", `a path has at most 64 siblings, found ${path.length}`);
    return {
      snapshot,
      account: {
        id: text(account.get("id"), "proof $.account.id", "account id", 256),
        salt: hex32(account.get("salt"), "proof $.account.salt", "salt"),
        index: int(account.get("index"), "proof $.account.index"),
        balances: sums(account.get("balances"), snapshot.assets, "proof $.account.balances"),
      },
      path,
    };
  }

  function parseSnapshot(snapshotText) {
    const keys = ["format", ...COMMITMENT_KEYS, "accounts", "chains", "tokens", "wallets", "keyholders"];
    const doc = exactly(parseJson(snapshotText, "snapshot.json"), "snapshot.json $", keys);
    if (doc.get("format") !== "reserves-snapshot/1") fail("snapshot.json $.format", "expected 'reserves-snapshot/1'");
    const statement = commitment(doc, "snapshot.json $");
    statement.accounts = int(doc.get("accounts"), "snapshot.json $.accounts", 1n, 1n << BigInt(statement.height));
    if (!(doc.get("chains") instanceof Map)) fail("snapshot.json $.chains", "expected an object");
    for (const key of ["tokens", "wallets", "keyholders"]) list(doc.get(key), `snapshot.json $.${key}`);
    return statement;
  }

  /* Hashing: FORMAT §1 and §4. */
  const tags = new Map();
  async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)); }
  function concat(parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  async function tagged(tag, parts) {
    if (!tags.has(tag)) { const t = await sha256(encoder.encode(tag)); tags.set(tag, concat([t, t])); }
    return sha256(concat([tags.get(tag), ...parts]));
  }
  function uint(value, bytes) {
    const out = new Uint8Array(bytes);
    let v = BigInt(value);
    for (let i = bytes - 1; i >= 0; i--) { out[i] = Number(v & 255n); v >>= 8n; }
    return out;
  }
  function lp(value) { const raw = encoder.encode(value); return concat([uint(raw.length, 2), raw]); }
  const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const fromHex = (text) => Uint8Array.from(text.match(/../g), (h) => parseInt(h, 16));

  async function context(s) {
    const parts = [lp(s.exchange), lp(s.snapshotId), uint(s.cutoff, 8), uint(s.height, 1), uint(s.assets.length, 2)];
    for (const a of s.assets) parts.push(lp(a.symbol), uint(a.decimals, 1));
    return tagged("reserves/v1/context", parts);
  }
  async function node(ctx, level, index, left, right) {
    const total = left.sums.map((v, i) => v + right.sums[i]);
    const overflow = total.findIndex((v) => v >= U128);
    const hash = await tagged("reserves/v1/node", [ctx, uint(level, 1), uint(index, 8),
      fromHex(left.hash), ...left.sums.map((v) => uint(v, 16)), fromHex(right.hash), ...right.sums.map((v) => uint(v, 16))]);
    return { hash: toHex(hash), sums: total, overflow };
  }
  async function padding(ctx, level, index, count) {
    return { hash: toHex(await tagged("reserves/v1/pad", [ctx, uint(level, 1), uint(index, 8)])), sums: Array(count).fill(0n) };
  }

  function format(units, decimals) {
    if (decimals === 0) return units.toString();
    const digits = units.toString().padStart(decimals + 1, "0");
    const fraction = digits.slice(-decimals).replace(/0+$/, "");
    return fraction ? `${digits.slice(0, -decimals)}.${fraction}` : digits.slice(0, -decimals);
  }
  const describe = (s) => `snapshot ${JSON.stringify(s.snapshotId)} of ${JSON.stringify(s.exchange)}`;

  /* Steps (2) to (7): each returns [status, detail, expected, found]. */
  async function* steps(proof, published, rootHex) {
    const s = proof.snapshot, a = proof.account, H = s.height;
    const ctx = await context(s);
    yield [1, "PASS", `ctx ${toHex(ctx)}`];
    if (a.index >= 1n << BigInt(H)) return yield [2, "FAIL", "index out of range", `< ${1n << BigInt(H)}`, `${a.index}`];
    if (proof.path.length !== H) return yield [2, "FAIL", "path length differs from the height", `${H} siblings`, `${proof.path.length} siblings`];
    yield [2, "PASS", `index ${a.index} < 2^${H}, ${H} siblings`];
    const account = await tagged("reserves/v1/account", [ctx, lp(a.id), fromHex(a.salt)]);
    let current = { hash: toHex(await tagged("reserves/v1/leaf", [ctx, uint(a.index, 8), account, ...a.balances.map((b) => uint(b, 16))])), sums: a.balances };
    yield [3, "PASS", `leaf ${current.hash}`];
    for (let level = 0; level < H; level++) {
      const position = a.index >> BigInt(level);
      const [left, right] = position % 2n === 0n ? [current, proof.path[level]] : [proof.path[level], current];
      current = await node(ctx, level + 1, position >> 1n, left, right);
      if (current.overflow >= 0) {
        return yield [4, "FAIL", `${s.assets[current.overflow].symbol} sum overflows at node (${level + 1}, ${position >> 1n})`, "< 2^128", `${current.sums[current.overflow]}`];
      }
    }
    yield [4, "PASS", `${H} levels`];
    if (current.hash !== s.root.hash) return yield [5, "FAIL", "root hash differs", s.root.hash, current.hash];
    const wrong = s.root.sums.findIndex((v, i) => v !== current.sums[i]);
    if (wrong >= 0) {
      const d = s.assets[wrong].decimals;
      return yield [5, "FAIL", `root sum of ${s.assets[wrong].symbol} differs`, format(s.root.sums[wrong], d), format(current.sums[wrong], d)];
    }
    yield [5, "PASS", `root ${current.hash}`];
    if (published) {
      const same = (x, y) => x.exchange === y.exchange && x.snapshotId === y.snapshotId;
      if (!same(s, published)) return yield [6, "FAIL", `this proof is for ${describe(s)}; the published snapshot is ${describe(published)}`, describe(published), describe(s)];
      if (s.cutoff !== published.cutoff) return yield [6, "FAIL", `this proof is for ${describe(s)} with cut-off ${s.cutoffText}; the published one has cut-off ${published.cutoffText}`, describe(published), describe(s)];
      const assets = (x) => x.assets.map((t) => `${t.symbol}/${t.decimals}`).join(", ");
      if (assets(s) !== assets(published)) return yield [6, "FAIL", `this proof lists assets ${assets(s)}; the published snapshot lists ${assets(published)}`, describe(published), describe(s)];
      if (published.root.hash !== current.hash) return yield [6, "FAIL", "root hash differs from the published snapshot", published.root.hash, current.hash];
      if (published.height !== s.height) return yield [6, "FAIL", "proof's snapshot height differs from the published snapshot", `${published.height}`, `${s.height}`];
      if (published.root.sums.some((v, i) => v !== s.root.sums[i])) return yield [6, "FAIL", "proof's snapshot root differs from the published snapshot"];
      yield [6, "PASS", "identity and root equal the published snapshot.json"];
    } else if (rootHex) {
      if (rootHex !== current.hash) return yield [6, "FAIL", "root hash differs from the one supplied", rootHex, current.hash];
      yield [6, "PASS", "root hash equals the one supplied"];
    } else {
      yield [6, "SKIPPED", "not anchored: the root was compared with nothing published"];
    }
    if (!published) return yield [7, "SKIPPED", "needs the published snapshot.json: it states the account count"];
    if (a.index >= published.accounts) return yield [7, "FAIL", `slot ${a.index} is beyond the snapshot's ${published.accounts} accounts`, `< ${published.accounts}`, `${a.index}`];
    for (let level = 0; level < H; level++) {
      const position = (a.index >> BigInt(level)) ^ 1n;
      if (position << BigInt(level) < published.accounts) continue;
      const expected = await padding(ctx, level, position, s.assets.length);
      const sibling = proof.path[level];
      if (sibling.hash !== expected.hash || sibling.sums.some((v) => v !== 0n)) {
        return yield [7, "FAIL", `sibling (${level}, ${position}) covers only empty slots but is not the padding node`, `${expected.hash} with zero sums`, sibling.hash];
      }
    }
    yield [7, "PASS", `slot ${a.index} of ${published.accounts}; padding siblings are the defined nodes`];
  }

  function rootOption(value) {
    if (value === undefined || value === null || value === "") return null;
    const spelled = (value.startsWith("0x") || value.startsWith("0X") ? value.slice(2) : value).toLowerCase();
    if (!HEX32.test(spelled)) fail("root", "a root hash is 64 hex characters (0x and upper case accepted)");
    return spelled;
  }

  async function reservesVerify(proofText, snapshotText, options = {}) {
    let proof, published, rootHex;
    try {
      if (typeof proofText !== "string" || proofText.length > MAX_PROOF_BYTES) fail("proof", "no proof text, or larger than 32 MiB");
      proof = parseProof(proofText);
      published = snapshotText === null || snapshotText === undefined ? null : parseSnapshot(snapshotText);
      rootHex = published ? null : rootOption(options.root);
    } catch (error) {
      if (error instanceof Malformed) return { result: "MALFORMED", reason: error.message, steps: [] };
      throw error;
    }
    const checks = [];
    for await (const [step, status, detail, expected, found] of steps(proof, published, rootHex)) {
      const check = { step, id: STEPS[step][0], status, title: STEPS[step][1], detail };
      if (expected !== undefined) Object.assign(check, { expected, found });
      checks.push(check);
    }
    const failed = checks.find((c) => c.status === "FAIL");
    for (let step = checks.length + 1; step <= 7; step++) {
      checks.push({ step, id: STEPS[step][0], status: "SKIPPED", title: STEPS[step][1], detail: `not reached: step ${failed.step} failed` });
    }
    const s = proof.snapshot;
    const balances = Object.fromEntries(s.assets.map((a, i) => [a.symbol, format(proof.account.balances[i], a.decimals)]));
    const totals = Object.fromEntries(s.assets.map((a, i) => [a.symbol, format(s.root.sums[i], a.decimals)]));
    if (failed) return { result: "FAIL", reason: `(${failed.step}) ${failed.title} failed: ${failed.detail}`, steps: checks, balances, totals };
    if (!published && !rootHex) return { result: "NOT_ANCHORED", reason: "consistent, but compared with no published snapshot or root", steps: checks, balances, totals };
    return { result: "PASS", reason: `account ${JSON.stringify(proof.account.id)} is included in ${describe(s)}`, steps: checks, balances, totals };
  }

  window.reservesVerify = reservesVerify;
})();
