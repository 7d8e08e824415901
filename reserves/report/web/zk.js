/* reserves: HTX's and Gate's zk-Merkle user files in the verifier page, as
 * reserves.formats.zkmerkle checks them, over the same Poseidon (reserves.formats.poseidon):
 * BN254, x^5, 8 full rounds, circomlib's partial rounds, constants drawn from the Grain LFSR
 * here (the page carries no table), inputs past 12 chained 12 at a time, output state[1]. */
"use strict";
(function () {
  const { fail, NumberText, anchored, negatives, stripZeros } = window.reservesCore;
  const { isMap, finding } = window.reservesFormatHelpers;
  const P = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001n;
  const PARTIAL = { 3: 57, 4: 56, 5: 60, 6: 60, 7: 63, 8: 64, 9: 63, 10: 60, 11: 66, 12: 60, 13: 65 };
  const mod = (x) => ((x % P) + P) % P;
  function power(base, exponent) {
    let result = 1n, b = base % P, e = exponent;
    while (e > 0n) { if (e & 1n) result = (result * b) % P; b = (b * b) % P; e >>= 1n; }
    return result;
  }

  /* The Grain LFSR of the Poseidon paper's script, self-shrunk: its output bits. */
  function* grain(width) {
    const seed = "01" + "0000" + (254).toString(2).padStart(12, "0") + width.toString(2).padStart(12, "0") +
      (8).toString(2).padStart(10, "0") + PARTIAL[width].toString(2).padStart(10, "0") + "1".repeat(30);
    const state = Array.from(seed, Number);
    let at = 0;
    const step = () => {
      const bit = state[at + 62] ^ state[at + 51] ^ state[at + 38] ^ state[at + 23] ^ state[at + 13] ^ state[at];
      state.push(bit);
      at++;
      if (at > 4096) { state.splice(0, at); at = 0; }
      return bit;
    };
    for (let i = 0; i < 160; i++) step();
    for (;;) { const keep = step(), out = step(); if (keep) yield out; }
  }
  const cache = new Map();
  function constants(width) {
    if (cache.has(width)) return cache.get(width);
    const bits = grain(width);
    const number = () => { let n = 0n; for (let i = 0; i < 254; i++) n = (n << 1n) | BigInt(bits.next().value); return n; };
    const rounds = [];
    while (rounds.length < (8 + PARTIAL[width]) * width) { const c = number(); if (c < P) rounds.push(c); }
    const drawn = Array.from({ length: 2 * width }, () => number() % P);
    const matrix = drawn.slice(0, width).map((x) => drawn.slice(width).map((y) => power(x + y, P - 2n)));
    cache.set(width, { rounds, matrix });
    return cache.get(width);
  }
  function permute(input) {
    const width = input.length, { rounds, matrix } = constants(width), partial = PARTIAL[width];
    let state = input.slice();
    for (let r = 0; r < 8 + partial; r++) {
      state = state.map((v, i) => (v + rounds[r * width + i]) % P);
      if (r < 4 || r >= 4 + partial) state = state.map((v) => power(v, 5n));
      else state[0] = power(state[0], 5n);
      state = matrix.map((row) => row.reduce((sum, m, j) => sum + m * state[j], 0n) % P);
    }
    return state;
  }
  function poseidon(...elements) {
    let state = Array(13).fill(0n), start = 0;
    if (elements.length > 12) {
      while (start + 12 <= elements.length) { state = permute([state[0], ...elements.slice(start, start + 12)]); start += 12; }
    }
    const rest = elements.slice(start);
    if (rest.length) state = permute([state[0], ...rest]);
    return state[1];
  }
  window.reservesPoseidon = poseidon;

  const STEPS = {
    1: ["parse", "the file and the asset list parse"],
    2: ["climb", "your leaf, climbed through the siblings, gives the file's root"],
    3: ["root-published", "the root is the published one"],
    4: ["totals-cover", "the published totals cover your balances"],
  };
  const LAYOUTS = {
    /* Keys, amounts, bounds and two-digit assets come from reserves.formats.zkmerkle,
     * written into the page (window.reservesConstants.zk). */
    "htx-zk": { title: "HTX zk-Merkle proof", totals: ["TotalBalance"], ...window.reservesConstants.zk["htx-zk"] },
    "gate-zk": { title: "Gate zk-Merkle proof", totals: ["TotalEquity", "TotalDebt"], ...window.reservesConstants.zk["gate-zk"] },
  };
  const integer = (value, where, low, high) => {
    const v = value instanceof NumberText ? BigInt(value.text) : value;
    if (typeof v !== "bigint" || v < low || v > high) fail(where, `expected an integer from ${low} to ${high}`);
    return v;
  };
  function fieldHex(value, where) {
    if (typeof value !== "string" || !/^[0-9a-f]{64}$/.test(value) || BigInt("0x" + value) >= P) fail(where, "expected 64 lowercase hex characters naming an element of the BN254 field");
    return BigInt("0x" + value);
  }
  function sibling(value, where) {
    let raw = null;
    try { raw = typeof value === "string" && /^[A-Za-z0-9+/]{43}=$/.test(value) ? atob(value) : null; } catch { raw = null; }
    const n = raw && raw.length === 32 ? BigInt("0x" + Array.from(raw, (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("")) : null;
    if (n === null || n >= P || btoa(raw) !== value) fail(where, "expected the standard base64 of 32 bytes naming an element of the BN254 field");
    return n;
  }
  function parse(doc, name) {
    const layout = LAYOUTS[name], k = layout.keys;
    const amounts = new Map();
    const list = doc.get(k[4]);
    if (!Array.isArray(list)) fail(`proof $.${k[4]}`, "expected an array");
    list.forEach((item, i) => {
      const where = `proof $.${k[4]}[${i}]`, wanted = ["Index", ...layout.amounts];
      if (!isMap(item) || item.size !== wanted.length || !wanted.every((w) => item.has(w))) fail(where, `expected ${wanted.join(", ")}`);
      const index = Number(integer(item.get("Index"), `${where}.Index`, 0n, 65535n));
      if (amounts.has(index)) fail(`${where}.Index`, `asset ${index} is listed twice`);
      amounts.set(index, layout.amounts.map((a) => integer(item.get(a), `${where}.${a}`, BigInt(layout.low), BigInt(layout.high))));
    });
    const siblings = doc.get(k[6]);
    if (!Array.isArray(siblings) || siblings.length !== 28) fail(`proof $.${k[6]}`, "expected 28 sibling hashes");
    return {
      name, index: Number(integer(doc.get(k[0]), `proof $.${k[0]}`, 0n, (1n << 28n) - 1n)), identity: fieldHex(doc.get(k[1]), `proof $.${k[1]}`),
      equity: integer(doc.get(k[2]), `proof $.${k[2]}`, 0n, P - 1n), debt: integer(doc.get(k[3]), `proof $.${k[3]}`, 0n, P - 1n),
      amounts, root: fieldHex(doc.get(k[5]), `proof $.${k[5]}`), siblings: siblings.map((s, i) => sibling(s, `proof $.${k[6]}[${i}]`)),
    };
  }
  function assetList(doc, name) {
    const layout = LAYOUTS[name], list = doc.get("CexAssetsInfo");
    if (!Array.isArray(list)) fail("asset list $.CexAssetsInfo", "expected an array");
    const found = new Map();
    list.forEach((item, i) => {
      const where = `asset list $.CexAssetsInfo[${i}]`, wanted = ["Index", "Symbol", ...layout.totals];
      if (!isMap(item) || !wanted.every((w) => item.has(w)) || ![...item.keys()].every((key) => wanted.includes(key) || key === "BasePrice")) fail(where, `expected ${wanted.join(", ")}`);
      const index = Number(integer(item.get("Index"), `${where}.Index`, 0n, 65535n));
      if (found.has(index)) fail(`${where}.Index`, `asset ${index} is listed twice`);
      if (typeof item.get("Symbol") !== "string") fail(`${where}.Symbol`, "expected a string");
      found.set(index, { symbol: item.get("Symbol"), totals: layout.totals.map((t) => integer(item.get(t), `${where}.${t}`, 0n, (1n << 64n) - 1n)) });
    });
    for (let i = 0; i < found.size; i++) if (!found.has(i)) fail("asset list $.CexAssetsInfo", `the asset indices are not 0 to ${found.size - 1}`);
    return Array.from({ length: found.size }, (_, i) => found.get(i));
  }
  function leaf(proof, count) {
    let elements;
    if (proof.name === "htx-zk") {
      elements = Array.from({ length: count }, (_, i) => { const v = (proof.amounts.get(i) || [0n])[0]; return v < 0n ? -v : v; });
    } else {
      const flat = [];
      for (let i = 0; i < count; i++) flat.push(...(proof.amounts.get(i) || [0n, 0n]));
      flat.push(0n, 0n);
      elements = [];
      for (let j = 0; j < 2 * count; j += 3) elements.push((flat[j] << 128n) + (flat[j + 1] << 64n) + flat[j + 2]);
    }
    return poseidon(proof.identity, proof.equity, proof.debt, poseidon(...elements));
  }
  const hex = (n) => n.toString(16).padStart(64, "0");
  const whole = (name, symbol, units) => stripZeros(units, LAYOUTS[name].twoDigit.includes(symbol) ? 2 : 8);
  async function* check(doc, root, extra, name) {
    const proof = parse(doc, name);
    const assets = assetList(extra.published, name);
    const wide = [...proof.amounts.keys()].find((i) => i >= assets.length);
    if (wide !== undefined) fail("proof", `asset ${wide} is not in the asset list (${assets.length} assets)`);
    const balances = Object.fromEntries([...proof.amounts].sort((a, b) => a[0] - b[0]).map(([i, v]) => [assets[i].symbol, whole(name, assets[i].symbol, v[0])]));
    const totals = Object.fromEntries(assets.filter((a) => a.totals[0] !== 0n).map((a) => [a.symbol, whole(name, a.symbol, a.totals[0])]));
    yield { balances, totals };
    yield [1, "PASS", `${proof.amounts.size} of your assets; ${assets.length} in the asset list`];
    const counts = name === "htx-zk" ? [assets.length] : window.reservesConstants.gateAssetCounts;
    let computed = null, first = null;
    for (const count of counts) {
      const own = leaf(proof, count);
      let node = own;
      proof.siblings.forEach((s, level) => { node = (proof.index >> level) & 1 ? poseidon(s, node) : poseidon(node, s); });
      if (first === null) first = node;
      if (node === proof.root) { computed = node; yield [2, "PASS", `leaf ${hex(own)} (${count} assets), root ${hex(node)}`]; break; }
    }
    if (computed === null) {
      const suffix = counts.length > 1 ? ` (with ${counts.join(" and ")} assets)` : "";
      return yield [2, "FAIL", `the root computed from your leaf differs from the file's root${suffix}`, hex(proof.root), hex(first)];
    }
    const anchor = anchored(3, root, hex(computed));
    yield anchor;
    if (anchor[1] === "FAIL") return;
    const names = name === "htx-zk" ? ["balance"] : ["equity", "debt"];
    for (const [index, values] of [...proof.amounts].sort((a, b) => a[0] - b[0])) {
      for (let j = 0; j < names.length; j++) {
        const mine = values[j] < 0n ? -values[j] : values[j], total = assets[index].totals[j];
        if (mine > total) return yield [4, "FAIL", `your ${assets[index].symbol} ${names[j]} exceeds the exchange's published total`, `${total}`, `${mine}`];
      }
    }
    yield [4, "PASS", `each of your ${proof.amounts.size} assets is within the published total`];
    const negative = [...proof.amounts].sort((a, b) => a[0] - b[0]).filter(([, v]) => v[0] < 0n).map(([i]) => `your ${assets[i].symbol} balance (the hash drops its sign)`);
    yield negatives(negative, 5);
    yield finding(5, "user-secret", "the leaf holds a secret of the user's", name === "htx-zk"
      ? "the account id hash is SHA-256 of your uid alone: anyone who knows your uid can find your leaf"
      : "the leaf's identifier is derived in a way Gate does not publish: you cannot check that it is yours");
    yield finding(5, "sums-proven", "the root's totals are the sum of the accounts", "the tree holds no sums: only the exchange's zk proofs (proof.csv) show the totals add up, and a user's check does not verify them");
  }
  const has = (keys) => (doc) => doc.size === keys.length && keys.every((key) => doc.has(key));
  for (const name of ["htx-zk", "gate-zk"]) {
    window.reservesFormats.push({
      name, title: LAYOUTS[name].title, steps: STEPS, anchorStep: 3, digits: 64, signed: name === "htx-zk", fractional: false,
      published: name === "htx-zk" ? "config.json" : "cex_config.json", needsRoot: true, asAssetList: true,
      recognises: has(LAYOUTS[name].keys), check: (doc, root, extra) => check(doc, root, extra, name),
    });
  }
})();
