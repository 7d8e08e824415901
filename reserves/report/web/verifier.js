/* reserves: the user's check of a reserves-proof/1 inclusion proof (FORMAT §6.3), in the
 * browser. The same numbered steps as `reserves verify`; amounts are BigInt, hashing is
 * WebCrypto SHA-256, parsing is as strict as the CLI's (no duplicate keys, no floats, no
 * negative numbers, FORMAT §2's amount grammar, NFC strings).
 *
 *   window.reservesVerify(proofText, snapshotText, {root, credential}) -> Promise of
 *     {result: "PASS" | "FAIL" | "MALFORMED" | "NOT_ANCHORED" | "CANNOT_CHECK", reason, format,
 *      steps, balances, totals}
 *
 * It checks reserves-proof/1 files, OKX v1 and the hash-based formats of formats.js and
 * java_formats.js, and HTX's and Gate's zk-Merkle files (zk.js); snapshotText is then
 * SwissBorg's audit roots, or HTX's and Gate's asset list. Binance's zk files are
 * CANNOT_CHECK, as in the CLI.
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
  /* A JSON number other than a plain non-negative integer, kept as its exact text: only
   * formats that hash such numbers (Bitget 2022) read them; for every other, a parse that
   * met one is refused as the CLI refuses it. */
  class NumberText { constructor(text) { this.text = text; } }
  const fail = (where, message) => { throw new Malformed(`${where}: ${message}`); };

  /* (1) Strict JSON: the grammar of RFC 8259, an object at the top, no duplicate keys,
   * integers only (non-negative, at most 40 digits), nesting at most 64 deep. */
  function parseJson(text, source, lenient = null) {
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
      if (c === "-" || (c >= "0" && c <= "9")) return number();
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
      const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(at, at + 4096));
      if (!match) error("invalid number");
      const spelled = match[0];
      at += spelled.length;
      const fraction = match[2] !== undefined || match[3] !== undefined;
      if (spelled.replace("-", "").length > MAX_INT_DIGITS) error(`a number of more than ${MAX_INT_DIGITS} digits`);
      if (!fraction && !spelled.startsWith("-")) return BigInt(spelled);
      if (lenient === null) error(fraction ? `number ${spelled} is not an integer (amounts are strings)` : `negative number ${spelled}`);
      (fraction ? lenient.fractions : lenient.negatives).push(spelled);
      return new NumberText(spelled);
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

  function parseProof(document) {
    const doc = exactly(document, "proof $", ["format", "snapshot", "account", "path"]);
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

  /* BigInt counts of 10^-scale as text: no trailing zeros (FORMAT §2, Java's
   * stripTrailingZeros().toPlainString(), decimal.js), or exactly `places` decimals cut
   * toward zero (Java's setScale(places, DOWN)). Every format here spells amounts with these. */
  function stripZeros(units, scale) {
    const negative = units < 0n, digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
    const whole = digits.slice(0, digits.length - scale), fraction = digits.slice(digits.length - scale).replace(/0+$/, "");
    const text = fraction ? `${whole}.${fraction}` : whole;
    return negative ? `-${text}` : text;
  }
  function fixedPlaces(units, scale, places) {
    const negative = units < 0n, kept = (negative ? -units : units) / 10n ** BigInt(scale - places);
    const digits = kept.toString().padStart(places + 1, "0");
    const text = places ? `${digits.slice(0, -places)}.${digits.slice(-places)}` : digits;
    return negative && kept !== 0n ? `-${text}` : text;
  }
  function hex64(value, where) {
    if (typeof value !== "string" || !HEX32.test(value)) fail(where, "expected 64 lowercase hex characters");
    return value;
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
      return yield [5, "FAIL", `root sum of ${s.assets[wrong].symbol} differs`, stripZeros(s.root.sums[wrong], d), stripZeros(current.sums[wrong], d)];
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


  /* OKX's Merkle v1 user proof (self and path), as reserves.formats.okx_v1 checks it:
   * leaf = SHA-256(nonce || {"BTC":"…","ETH":"…","USDT":"…"}), parent = SHA-256(left ||
   * right || BTC || ETH || USDT || height) with every sum rounded down to 8 decimals. */
  const OKX = {
    steps: {
      1: ["parse", "the file parses; balances are non-negative plain decimals"],
      2: ["leaf", "the leaf recomputes from the user's nonce and balances"],
      3: ["path-shape", "the path is well formed"],
      4: ["climb", "climbing the path gives the root"],
      5: ["root-published", "the root is the published one"],
    },
    title: "OKX Merkle v1 proof",
    assets: ["BTC", "ETH", "USDT"],
    rounding: 10n ** 10n,
  };
  const OTHER_SELF_KEYS = ["userHash", "merkelLeaf", "merkleLeaf"];
  function isOkxV1(doc) {
    const own = doc.get("self");
    return doc.size === 2 && doc.has("self") && doc.has("path") && own instanceof Map && !OTHER_SELF_KEYS.some((k) => own.has(k));
  }
  const okxText = (units) => stripZeros(units, 18);
  function okxBalances(value, where) {
    if (!(value instanceof Map) || value.size !== 3 || !OKX.assets.every((a) => value.has(a))) fail(where, "balances must have exactly the keys BTC, ETH, USDT");
    const units = OKX.assets.map((a) => amount(value.get(a), 18, `${where}.${a}`));
    return { units, text: OKX.assets.map((a) => value.get(a)) };
  }
  function okxNode(value, where) {
    if (!(value instanceof Map)) fail(where, "expected an object");
    for (const key of value.keys()) if (!["auditId", "balances", "type", "nonce", "hash", "height"].includes(key)) fail(where, `unknown key ${JSON.stringify(key)}`);
    for (const key of ["type", "height"]) if (typeof value.get(key) !== "bigint") fail(`${where}.${key}`, `${key} must be an integer`);
    return { type: Number(value.get("type")), height: Number(value.get("height")), hash: hex64(value.get("hash"), `${where}.hash`), balances: okxBalances(value.get("balances"), `${where}.balances`) };
  }
  function parseOkx(doc) {
    const own = doc.get("self");
    const nonce = hex64(own.get("nonce"), "proof $.self.nonce");
    const leaf = okxNode(own, "proof $.self");
    const path = doc.get("path");
    if (!Array.isArray(path) || path.length === 0) fail("proof $.path", "expected a non-empty array");
    return { nonce, leaf, path: path.map((item, i) => okxNode(item, `proof $.path[${i}]`)) };
  }
  async function sha256Text(value) { return toHex(await sha256(encoder.encode(value))); }
  function okxPathProblem(proof) {
    const { leaf, path } = proof;
    if (![1, 2].includes(leaf.type) || leaf.height !== 1) return ["self must be a left or right leaf at height 1", "type 1 or 2, height 1", `type ${leaf.type}, height ${leaf.height}`];
    for (let position = 0; position < path.length; position++) {
      const node = path[position], last = position === path.length - 1, where = `path[${position}]`;
      if (last !== (node.type === 3)) return [`${where}: the root must be the last element and only the last`, last ? "type 3 last" : "type 1, 2 or 4", `type ${node.type}`];
      if (![1, 2, 3, 4].includes(node.type)) return [`${where}: unknown type`, "1, 2, 3 or 4", `${node.type}`];
      if (node.height !== position + 1) return [`${where}: heights must rise by one`, `${position + 1}`, `${node.height}`];
      if (node.type === 4 && node.balances.units.some((u) => u !== 0n)) return [`${where}: a padding node has zero balances`, "0, 0, 0", node.balances.text.join(", ")];
      if (node.balances.units.some((u) => u % OKX.rounding !== 0n)) return [`${where}: OKX's sums have at most 8 decimals; more are covered by no hash`, "at most 8 decimals", node.balances.text.join(", ")];
    }
    if (path.length < 2 || ![1, 2, 4].includes(path[0].type) || path[0].type === leaf.type) return ["path[0] must be the leaf's sibling, on the other side", `not type ${leaf.type}`, `type ${path[0].type}`];
    return null;
  }
  async function* okxCheck(doc, rootHex) {
    const proof = parseOkx(doc);
    const { leaf, path } = proof;
    const texts = (node) => Object.fromEntries(OKX.assets.map((a, i) => [a, node.balances.text[i]]));
    yield { balances: texts(leaf), totals: texts(path[path.length - 1]) };
    yield [1, "PASS", ""];
    const leafJson = "{" + OKX.assets.map((a, i) => `"${a}":"${leaf.balances.text[i]}"`).join(",") + "}";
    const computed = await sha256Text(proof.nonce + leafJson);
    if (computed !== leaf.hash) return yield [2, "FAIL", "self.hash is not SHA-256(nonce || balances)", computed, leaf.hash];
    yield [2, "PASS", computed];
    const problem = okxPathProblem(proof);
    if (problem) return yield [3, "FAIL", ...problem];
    yield [3, "PASS", `${path.length - 1} siblings, root at height ${path[path.length - 1].height}`];
    let hash = leaf.hash, current = leaf.balances;
    for (let position = 0; position < path.length - 1; position++) {
      const sibling = path[position];
      if (sibling.type !== 4 && sibling.hash === hash) return yield [4, "FAIL", `path[${position}] copies the node it pairs with, as only padding (type 4) may`, "type 4", `type ${sibling.type}`];
      const siblingIsLeft = position ? sibling.type === 1 : leaf.type === 2;
      const [left, right] = siblingIsLeft ? [sibling.hash, hash] : [hash, sibling.hash];
      const units = current.units.map((u, i) => (u + sibling.balances.units[i]) / OKX.rounding * OKX.rounding);
      current = { units, text: units.map(okxText) };
      hash = await sha256Text(left + right + current.text.join("") + String(position + 2));
    }
    const top = path[path.length - 1];
    if (hash !== top.hash) return yield [4, "FAIL", "the computed root hash differs from the file's root", top.hash, hash];
    if (current.units.some((u, i) => u !== top.balances.units[i]) || current.text.some((t, i) => t !== top.balances.text[i])) {
      return yield [4, "FAIL", "the computed root balances differ", top.balances.text.join(", "), current.text.join(", ")];
    }
    yield [4, "PASS", `root ${hash}`];
    if (!rootHex) return yield [5, "SKIPPED", "not anchored: the root was compared with nothing published"];
    if (rootHex !== hash) return yield [5, "FAIL", "the root differs from the one supplied", rootHex, hash];
    yield [5, "PASS", "equals the root hash supplied"];
  }
  async function reservesVerify(proofText, snapshotText, options = {}) {
    try {
      if (typeof proofText !== "string" || proofText.length > MAX_PROOF_BYTES) fail("proof", "no proof text, or larger than 32 MiB");
      const lenient = { negatives: [], fractions: [] };
      const doc = parseJson(proofText, "proof", lenient);
      const other = (window.reservesFormats || []).find((f) => f.recognises(doc));
      const refuse = (negatives, fractions) => {
        if (lenient.negatives.length && !negatives) fail("proof", `invalid JSON: negative number ${lenient.negatives[0]}`);
        if (lenient.fractions.length && !fractions) fail("proof", `invalid JSON: number ${lenient.fractions[0]} is not an integer`);
      };
      if (doc.get("format") === "reserves-proof/2") {
        const reason = "format v2 (private sums) is checked with secp256k1-zkp's range proofs, which this page does not carry; use 'reserves verify'";
        return { result: "CANNOT_CHECK", reason, steps: [] };
      }
      if (doc.has("format")) { refuse(false, false); return await verifyNative(doc, snapshotText, options.root); }
      if (other) {
        refuse(other.signed, other.fractional);
        const given = snapshotText !== null && snapshotText !== undefined;
        const extra = {};
        if (other.asAssetList) {
          if (!given) fail("snapshot", `a ${other.name} user file is checked with the asset list the exchange publishes (${other.published})`);
          extra.published = parseJson(snapshotText, "asset list");
        } else if (other.published) {
          if (given && options.root) fail("snapshot", "give the audit roots or a root hash, not both");
          if (!given) fail("snapshot", `a ${other.name} user file is checked against the ${other.published} the exchange publishes`);
          if (!options.credential) fail("credential", `a ${other.name} proof is checked with your credential`);
          Object.assign(extra, { published: parseJson(snapshotText, other.published), credential: options.credential });
        } else if (given) {
          fail("snapshot", `a snapshot.json anchors reserves-proof/1 files; for ${other.name} give the root`);
        }
        return await runSteps(other.title, other.steps, other.check(doc, rootDigits(options.root, other.digits), extra), other.anchorStep);
      }
      if (["self", "path", "pathList", "Proof", "MerkleProofEncode"].some((key) => doc.has(key))) {
        refuse(true, true);
        return { result: "CANNOT_CHECK", reason: "this page does not check this exchange's format; use 'reserves verify'", steps: [] };
      }
      fail("proof", "cannot tell its format");
    } catch (error) {
      if (error instanceof Malformed) return { result: "MALFORMED", reason: error.message, steps: [] };
      const helpers = window.reservesFormatHelpers;
      if (helpers && error instanceof helpers.CannotCheckHere) return { result: "CANNOT_CHECK", reason: error.message, steps: [] };
      throw error;
    }
  }

  async function verifyNative(doc, snapshotText, rootValue) {
    const proof = parseProof(doc);
    const published = snapshotText === null || snapshotText === undefined ? null : parseSnapshot(snapshotText);
    const rootHex = published ? null : rootDigits(rootValue, 64);
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
    const balances = Object.fromEntries(s.assets.map((a, i) => [a.symbol, stripZeros(proof.account.balances[i], a.decimals)]));
    const totals = Object.fromEntries(s.assets.map((a, i) => [a.symbol, stripZeros(s.root.sums[i], a.decimals)]));
    const base = { format: "reserves-proof/1", steps: checks, balances, totals };
    if (failed) return { result: "FAIL", reason: `(${failed.step}) ${failed.title} failed: ${failed.detail}`, ...base };
    if (!published && !rootHex) return { result: "NOT_ANCHORED", reason: "consistent, but compared with no published snapshot or root", ...base };
    return { result: "PASS", reason: `account ${JSON.stringify(proof.account.id)} is included in ${describe(s)}`, ...base };
  }

  function rootDigits(value, digits) {
    if (value === undefined || value === null || value === "") return null;
    const spelled = (value.startsWith("0x") || value.startsWith("0X") ? value.slice(2) : value).toLowerCase();
    if (!new RegExp(`^[0-9a-f]{${digits}}$`).test(spelled)) fail("root", `root hash must be ${digits} hex characters`);
    return spelled;
  }

  /* Another exchange's steps, run until the first failure (reserves.formats.run_steps). */
  async function runSteps(title, stepsDef, generator, anchorStep) {
    const checks = [];
    let found = { balances: {}, totals: {} };
    for await (const item of generator) {
      if (!Array.isArray(item)) { found = item; title = item.title || title; continue; }
      const [step, status, detail, expected, found2, id, named] = item;
      const check = { step, id: id || stepsDef[step][0], status, title: named || stepsDef[step][1], detail };
      if (expected !== undefined) Object.assign(check, { expected, found: found2 });
      checks.push(check);
      if (status === "FAIL") break;
    }
    const failed = checks.find((c) => c.status === "FAIL");
    const base = { format: title, steps: checks, balances: found.balances, totals: found.totals };
    if (failed) return { result: "FAIL", reason: `(${failed.step}) ${failed.title} failed`, ...base };
    const count = checks.filter((c) => c.status === "WARN").length;
    const warnings = count ? ` (${count} warning${count > 1 ? "s" : ""}: see the steps)` : "";
    if (!checks.some((c) => c.step === anchorStep && c.status === "PASS")) {
      return { result: "NOT_ANCHORED", reason: `the proof is consistent with its own root, which was not compared with a published one${warnings}`, ...base };
    }
    return { result: "PASS", reason: `your balances are included in the published root${warnings}`, ...base };
  }

  /* What the other formats' module (formats.js) shares with this one. */
  window.reservesCore = {
    fail, NumberText, sha256Text, toHex, encoder, HEX32, stripZeros, fixedPlaces, hex64,
    anchored(step, supplied, computed) {
      if (!supplied) return [step, "SKIPPED", "not anchored: the root was compared with nothing published"];
      if (supplied !== computed) return [step, "FAIL", "the root differs from the one supplied", supplied, computed];
      return [step, "PASS", "equals the root hash supplied"];
    },
    negatives(where, step) {
      const title = "amounts on the path are not negative";
      if (!where.length) return [step, "PASS", "no negative amount on the path", undefined, undefined, "negative-amounts", title];
      return [step, "WARN", `negative amounts (${where.slice(0, 5).join(", ")}): the published total may understate what is owed`, undefined, undefined, "negative-amounts", title];
    },
  };
  window.reservesFormats = [
    { name: "okx-v1", title: OKX.title, steps: OKX.steps, anchorStep: 5, digits: 64, signed: false, fractional: false,
      recognises: isOkxV1, check: okxCheck },
  ];
  window.reservesVerify = reservesVerify;
})();
