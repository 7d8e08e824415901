/* reserves: Bitget's and Bitunix's proofs in the verifier page, as reserves.formats.bitget
 * checks them: SHA-256 (Bitget cut to 64 bits) over fastjson's JSON of the balances, in a
 * java.util.HashMap's key order (or, in Bitget's 2026 files, the file's), with Java
 * BigDecimal spellings; the order is the one under which the leaf reproduces. */
"use strict";
(function () {
  const { fail, NumberText, sha256Text, anchored, negatives, stripZeros, fixedPlaces } = window.reservesCore;
  const { isMap, finding } = window.reservesFormatHelpers;
  const STEPS = {
    1: ["parse", "the file parses; amounts are decimals"],
    2: ["leaf", "the leaf recomputes from your uid hash, nonce and balances"],
    3: ["path-shape", "the path is well formed"],
    4: ["climb", "climbing the path gives the root"],
    5: ["root-published", "the root is the published one"],
  };
  const LAYOUTS = {
    bitget: { title: "Bitget Merkle proof", hash: "merkelLeaf", level: "level", side: "role", digits: 16 },
    bitunix: { title: "Bitunix Merkle proof", hash: "merkleLeaf", level: "height", side: "type", digits: 64 },
  };

  /* java.math.BigDecimal: unscaled (BigInt) x 10^-scale, the scale kept. */
  const JAVA = /^(-?)(0|[1-9][0-9]{0,60})(?:\.([0-9]{1,60}))?(?:E([+-]?[0-9]{1,3}))?$/;
  function parseJava(text, exponent, where) {
    const m = typeof text === "string" ? JAVA.exec(text) : null;
    if (!m || (m[4] !== undefined && !exponent)) fail(where, `amount ${JSON.stringify(text)} is not a plain decimal`);
    const unscaled = BigInt(m[2] + (m[3] || ""));
    if (m[1] && unscaled === 0n) fail(where, `amount ${JSON.stringify(text)} is a negative zero`);
    return { unscaled: m[1] ? -unscaled : unscaled, scale: (m[3] || "").length - Number(m[4] || 0) };
  }
  const pow10 = (n) => 10n ** BigInt(n);
  const at = (d, scale) => d.unscaled * pow10(scale - d.scale);
  const plus = (a, b) => { const scale = Math.max(a.scale, b.scale); return { unscaled: at(a, scale) + at(b, scale), scale }; };
  function units(d, scale) {
    if (scale >= d.scale) return at(d, scale);
    const cut = (d.unscaled < 0n ? -d.unscaled : d.unscaled) / pow10(d.scale - scale);
    return d.unscaled < 0n ? -cut : cut;
  }
  const plain = (d, scale) => fixedPlaces(units(d, scale), Math.max(scale, 0), Math.max(scale, 0));
  const stripped = (d) => stripZeros(units(d, Math.max(d.scale, 0)), Math.max(d.scale, 0));
  function toJavaString(d) {
    const digits = (d.unscaled < 0n ? -d.unscaled : d.unscaled).toString();
    const adjusted = digits.length - 1 - d.scale, sign = d.unscaled < 0n ? "-" : "";
    if (d.scale >= 0 && adjusted >= -6) return sign + (d.scale ? fixedPlaces(d.unscaled < 0n ? -d.unscaled : d.unscaled, d.scale, d.scale) : digits);
    const mantissa = digits[0] + (digits.length > 1 ? `.${digits.slice(1)}` : "");
    return `${sign}${mantissa}E${adjusted > 0 ? "+" : ""}${adjusted}`;
  }
  const equal = (a, b) => { const s = Math.max(a.scale, b.scale, 0); return units(a, s) === units(b, s); };

  /* The iteration order of a java.util.HashMap the keys were put into in this order. */
  function hashmapOrder(keys) {
    let table = 16;
    while (keys.length > (table * 3) / 4) table *= 2;
    const bucket = (key) => {
      let h = 0;
      for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
      return (h ^ (h >>> 16)) & (table - 1);
    };
    return keys.map((k, i) => [bucket(k), i, k]).sort((x, y) => x[0] - y[0] || x[1] - y[1]).map((x) => x[2]);
  }

  function node(value, where, layout, numbers, extra, root) {
    const keys = ["balances", layout.hash, layout.level, layout.side];
    if (root && isMap(value) && !value.has(layout.side)) value = new Map([...value, [layout.side, 3n]]);
    if (!isMap(value) || !keys.every((k) => value.has(k)) || ![...value.keys()].every((k) => keys.includes(k) || extra.includes(k))) {
      fail(where, `expected ${[...keys].sort().join(", ")}`);
    }
    const hash = value.get(layout.hash);
    if (typeof hash !== "string" || !new RegExp(`^[0-9a-f]{${layout.digits}}$`).test(hash)) fail(`${where}.${layout.hash}`, `expected ${layout.digits} lowercase hex characters`);
    for (const key of [layout.level, layout.side]) {
      const v = value.get(key);
      if (typeof v !== "bigint" || v > 65536n) fail(`${where}.${key}`, "expected a small non-negative integer");
    }
    const raw = value.get("balances");
    if (!isMap(raw) || raw.size === 0 || ![...raw.keys()].every((k) => k && /^[\x00-\x7f]*$/.test(k))) fail(`${where}.balances`, "expected an object of amounts by coin");
    const balances = new Map();
    for (const [coin, amount] of raw) {
      const isNumber = typeof amount === "bigint" || amount instanceof NumberText;
      if (isNumber !== numbers) fail(`${where}.balances.${coin}`, "amounts are all strings or all numbers in one file");
      balances.set(coin, parseJava(isNumber ? (amount instanceof NumberText ? amount.text : amount.toString()) : amount, isNumber, `${where}.balances.${coin}`));
    }
    return { hash, level: Number(value.get(layout.level)), side: Number(value.get(layout.side)), balances, order: [...raw.keys()] };
  }

  function parse(doc, layout, name) {
    const own = doc.get("self"), list = doc.get("path");
    if (!Array.isArray(list) || list.length < 2 || list.length > 64) fail("proof $.path", "expected an array of 2 to 64 nodes");
    const first = isMap(own.get("balances")) ? [...own.get("balances").values()][0] : undefined;
    const numbers = typeof first === "bigint" || first instanceof NumberText;
    const extra = name === "bitunix" ? ["encryptUid", "nonce", "auditId", "precisions"] : ["encryptUid", "nonce", "auditId"];
    const leaf = node(own, "proof $.self", layout, numbers, extra, false);
    for (const key of ["encryptUid", "nonce"]) if (typeof own.get(key) !== "string" || !own.get(key)) fail(`proof $.self.${key}`, "expected a non-empty string");
    const path = list.map((v, i) => node(v, `proof $.path[${i}]`, layout, numbers, ["encryptUid", "nonce", "auditId"], i === list.length - 1));
    let precisions = null;
    if (name === "bitunix") {
      const raw = own.get("precisions");
      if (!isMap(raw) || raw.size !== leaf.balances.size || ![...leaf.balances.keys()].every((k) => raw.has(k))) fail("proof $.self.precisions", "expected the decimals of each coin of the balances");
      if (![...raw.values()].every((p) => typeof p === "bigint" && p <= 36n)) fail("proof $.self.precisions", "expected whole numbers of decimals from 0 to 36");
      precisions = new Map([...raw].map(([k, v]) => [k, Number(v)]));
    }
    return { layout, name, leaf, uid: own.get("encryptUid"), nonce: own.get("nonce"), path, numbers, precisions };
  }

  function valueText(proof, coin, amount, leaf) {
    if (proof.numbers) return toJavaString(amount);
    if (proof.name === "bitunix") return JSON.stringify(plain(amount, leaf ? amount.scale : proof.precisions.get(coin)));
    return JSON.stringify(stripped(amount));
  }
  const canonical = (proof, balances, order, leaf) => "{" + order.map((k) => `${JSON.stringify(k)}:${valueText(proof, k, balances.get(k), leaf)}`).join(",") + "}";
  const hashText = async (proof, text) => (await sha256Text(text)).slice(0, proof.layout.digits);

  async function parent(proof, left, right, hashmap) {
    const inserted = [...left.order, ...right.order.filter((k) => !left.balances.has(k))];
    const sums = new Map();
    for (const coin of inserted) {
      const zero = { unscaled: 0n, scale: 0 };
      let total = plus(left.balances.get(coin) || zero, right.balances.get(coin) || zero);
      if (proof.precisions) total = { unscaled: units(total, proof.precisions.get(coin)), scale: proof.precisions.get(coin) };
      sums.set(coin, total);
    }
    const order = hashmap || proof.name === "bitunix" ? hashmapOrder(inserted) : inserted;
    const level = left.level - 1;
    const hash = await hashText(proof, `${left.hash}${right.hash},${canonical(proof, sums, order, false)},${level}`);
    return { hash, level, side: 0, balances: sums, order };
  }

  async function* check(doc, root, name) {
    const layout = LAYOUTS[name];
    const proof = parse(doc, layout, name);
    const strip = (m) => Object.fromEntries([...m].map(([k, v]) => [k, stripped(v)]));
    const top = proof.path[proof.path.length - 1];
    yield { balances: strip(proof.leaf.balances), totals: strip(top.balances) };
    yield [1, "PASS", `${proof.path.length - 1} siblings; amounts as ${proof.numbers ? "numbers" : "strings"}`];
    let hashmap = null;
    for (const [candidate, order] of [[true, hashmapOrder(proof.leaf.order)], [false, proof.leaf.order]]) {
      const leafText = `${proof.uid},${proof.nonce},${canonical(proof, proof.leaf.balances, order, true)}`;
      if ((await hashText(proof, leafText)) === proof.leaf.hash) { hashmap = candidate; break; }
    }
    if (hashmap === null) {
      const found = await hashText(proof, `${proof.uid},${proof.nonce},${canonical(proof, proof.leaf.balances, hashmapOrder(proof.leaf.order), true)}`);
      return yield [2, "FAIL", "the leaf differs from the file's", proof.leaf.hash, found];
    }
    yield [2, "PASS", `leaf ${proof.leaf.hash} (${hashmap ? "HashMap key order" : "the file's key order"})`];
    const sides = name === "bitget" ? [1, 2, 0] : [1, 2];
    for (let i = 0; i < proof.path.length; i++) {
      const n = proof.path[i], last = i === proof.path.length - 1;
      if (n.level !== proof.leaf.level - i) return yield [3, "FAIL", `path[${i}].${layout.level} is not ${proof.leaf.level - i}`, `${proof.leaf.level - i}`, `${n.level}`];
      if ((n.side === 3) !== last || (!last && !sides.includes(n.side))) return yield [3, "FAIL", `path[${i}].${layout.side} ${n.side} is not allowed there`];
      if (n.side === 0 && [...n.balances.values()].some((v) => v.unscaled !== 0n)) return yield [3, "FAIL", `padding at path[${i}] holds a balance`];
      if (proof.precisions && (n.balances.size !== proof.precisions.size || ![...n.balances.keys()].every((k) => proof.precisions.has(k)))) return yield [3, "FAIL", `path[${i}] lists other coins than your balances`];
    }
    if (top.level !== 1) return yield [3, "FAIL", `the root's ${layout.level} is not 1`, "1", `${top.level}`];
    yield [3, "PASS", `levels ${proof.leaf.level} to 1`];
    let current = proof.leaf;
    for (let i = 0; i < proof.path.length - 1; i++) {
      const sibling = proof.path[i];
      if (sibling.side === 0 && sibling.hash !== current.hash) return yield [4, "FAIL", `padding at path[${i}] does not repeat the node it pairs with`, current.hash, sibling.hash];
      current = sibling.side === 1 ? await parent(proof, sibling, current, hashmap) : await parent(proof, current, sibling, hashmap);
    }
    if (current.hash !== top.hash) return yield [4, "FAIL", "the computed root hash differs from the file's root", top.hash, current.hash];
    const keys = [...current.balances.keys()], topKeys = [...top.balances.keys()];
    const symmetric = [...keys.filter((k) => !top.balances.has(k)), ...topKeys.filter((k) => !current.balances.has(k))].sort();
    const wrong = symmetric.length ? symmetric : keys.filter((k) => !equal(current.balances.get(k), top.balances.get(k)));
    if (wrong.length) {
      const stated = top.balances.get(wrong[0]), found = current.balances.get(wrong[0]);
      return yield [4, "FAIL", `the computed root balance of ${wrong[0]} differs`, stated ? stripped(stated) : "None", found ? stripped(found) : "None"];
    }
    yield [4, "PASS", `root ${current.hash}`];
    const anchor = anchored(5, root, current.hash);
    yield anchor;
    if (anchor[1] === "FAIL") return;
    if (layout.digits < 64) yield finding(6, "truncated-hash", "hashes are full SHA-256", "hashes are cut to 64 bits: a forged node matching a real one is within reach of a large computer");
    const nodes = [["self", proof.leaf], ...proof.path.map((n, i) => [`path[${i}]`, n])];
    yield negatives(nodes.flatMap(([where, n]) => [...n.balances].filter(([, v]) => v.unscaled < 0n).map(([k]) => `${where} ${k}`)), 6);
  }

  const recogniser = (hashKey) => (doc) => doc.size === 2 && doc.has("self") && doc.has("path") && isMap(doc.get("self")) && doc.get("self").has(hashKey);
  window.reservesFormats.push(
    { name: "bitget", title: LAYOUTS.bitget.title, steps: STEPS, anchorStep: 5, digits: 16, signed: true, fractional: true,
      recognises: recogniser("merkelLeaf"), check: (doc, root) => check(doc, root, "bitget") },
    { name: "bitunix", title: LAYOUTS.bitunix.title, steps: STEPS, anchorStep: 5, digits: 64, signed: false, fractional: false,
      recognises: recogniser("merkleLeaf"), check: (doc, root) => check(doc, root, "bitunix") },
  );
})();
