/* reserves: other exchanges' hash-based proof formats in the verifier page, each checked as
 * its reserves.formats module checks it (same steps, same findings): MEXC, CoinEx, Bitget
 * and Bitunix. Amounts are BigInt counts of a fixed small unit, or, for the Java
 * exchanges, BigInt-unscaled BigDecimals whose scale is kept (their text is hashed). */
"use strict";
(function () {
  const { fail, sha256Text, anchored, negatives, stripZeros, fixedPlaces, hex64 } = window.reservesCore;
  const isMap = (v) => v instanceof Map;
  const ascii = (k) => /^[\x00-\x7f]*$/.test(k);

  /* Plain decimals to BigInt units of 10^-scale (reserves.formats.decimals.parse_decimal). */
  const DECIMAL = /^(-?)(0|[1-9][0-9]{0,38})(?:\.([0-9]+))?$/;
  function decimal(text, scale, signed, where) {
    const m = typeof text === "string" && ascii(text) ? DECIMAL.exec(text) : null;
    const fraction = m ? m[3] || "" : "";
    if (!m || (m[1] && !signed) || fraction.length > scale) fail(where, `amount ${JSON.stringify(text)} is not a plain decimal of at most ${scale} decimals`);
    const units = BigInt(m[2] + fraction.padEnd(scale, "0"));
    return m[1] ? -units : units;
  }
  const sorted = (keys) => [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const finding = (step, id, title, detail) => [step, "WARN", detail, undefined, undefined, id, title];

  /* MEXC (self, pathList): reserves.formats.mexc. */
  const MEXC_STEPS = {
    1: ["parse", "the file parses; amounts are plain decimals"],
    2: ["leaf", "the leaf recomputes from the proof id, account id and balances"],
    3: ["path-shape", "the path is well formed"],
    4: ["climb", "climbing the path gives the root"],
    5: ["root-published", "the root is the published one"],
  };
  function mexcNode(value, where, allowEmpty) {
    const keys = ["level", "type", "hash", "balances"];
    if (!isMap(value) || value.size !== 4 || !keys.every((k) => value.has(k))) fail(where, "expected an object with level, type, hash and balances");
    for (const key of ["level", "type"]) {
      const v = value.get(key);
      if (typeof v !== "bigint" || v < 0n || v > 256n) fail(`${where}.${key}`, `${key} must be an integer from 0 to 256`);
    }
    const hash = value.get("hash");
    if (typeof hash !== "string" || !(/^[0-9a-f]{32}$/.test(hash) || (allowEmpty && hash === ""))) fail(`${where}.hash`, "expected 32 lowercase hex characters");
    const raw = value.get("balances");
    if (!isMap(raw) || raw.size === 0 || ![...raw.keys()].every(ascii)) fail(`${where}.balances`, "expected an object of amounts by asset");
    const units = new Map(), text = new Map();
    for (const [k, v] of raw) { units.set(k, decimal(v, 30, true, `${where}.balances.${k}`)); text.set(k, v); }
    return { level: Number(value.get("level")), type: Number(value.get("type")), hash, units, text };
  }
  const mexcNodeText = (units) => sorted(units.keys()).map((k) => `${k}:${stripZeros(units.get(k), 30)}`).join(",");
  function mexcPlus(mine, right) {
    const units = new Map(mine);
    for (const symbol of ["BTC", "USDT", "ETH", "USDC"]) if (!units.has(symbol)) units.set(symbol, 0n);
    for (const [k, v] of right) units.set(k, (units.get(k) || 0n) + v);
    return units;
  }
  const cut = async (text) => (await sha256Text(text)).slice(0, 32);
  async function* mexcCheck(doc, root) {
    const own = doc.get("self");
    const selfKeys = ["level", "type", "hash", "balances", "proofId", "accountId"];
    if (!isMap(own) || own.size !== 6 || !selfKeys.every((k) => own.has(k))) fail("proof $.self", "expected level, type, hash, balances, proofId and accountId");
    for (const key of ["proofId", "accountId"]) {
      const v = own.get(key);
      if (typeof v !== "string" || !v || v.includes(",")) fail(`proof $.self.${key}`, "expected a non-empty string without commas");
    }
    const leaf = mexcNode(new Map(["level", "type", "hash", "balances"].map((k) => [k, own.get(k)])), "proof $.self", false);
    const list = doc.get("pathList");
    if (!Array.isArray(list) || list.length === 0) fail("proof $.pathList", "expected a non-empty array");
    const path = list.map((item, i) => mexcNode(item, `proof $.pathList[${i}]`, true));
    yield { balances: Object.fromEntries(leaf.text), totals: Object.fromEntries(path[path.length - 1].text) };
    yield [1, "PASS", ""];
    const leafText = sorted(leaf.text.keys()).map((k) => `${k}:${leaf.text.get(k)}`).join(",");
    const computed = await cut(`${own.get("proofId")},${own.get("accountId")},${leafText}`);
    if (computed !== leaf.hash) return yield [2, "FAIL", "self.hash is not SHA-256(proofId,accountId,balances)", computed, leaf.hash];
    yield [2, "PASS", computed];
    if (leaf.level !== 0 || ![1, 2].includes(leaf.type)) return yield [3, "FAIL", "self must be a left or right leaf at level 0", "level 0, type 1 or 2", `level ${leaf.level}, type ${leaf.type}`];
    const levels = path.map((n) => n.level);
    if (levels.some((l, i) => i > 0 && l <= levels[i - 1])) return yield [3, "FAIL", "levels must rise, each once", "rising levels", `[${levels.join(", ")}]`];
    for (let i = 0; i < path.length; i++) {
      const last = i === path.length - 1, node = path[i];
      if (last !== (node.type === 3) || ![1, 2, 3].includes(node.type)) return yield [3, "FAIL", `pathList[${i}]: the root is last and only last`, last ? "type 3 last" : "type 1 or 2", `type ${node.type}`];
    }
    const top = path[path.length - 1];
    yield [3, "PASS", `${path.length - 1} siblings listed, root at level ${top.level}`];
    const siblings = new Map(path.slice(0, -1).map((n) => [n.level, n]));
    let current = leaf.hash, units = leaf.units;
    for (let level = 0; level < top.level; level++) {
      const sibling = siblings.get(level);
      if (!sibling || sibling.hash === "") { current = await cut(`${current},,${mexcNodeText(units)}`); continue; }
      const [left, right] = sibling.type === 1 ? [sibling.hash, current] : [current, sibling.hash];
      units = sibling.type === 1 ? mexcPlus(sibling.units, units) : mexcPlus(units, sibling.units);
      current = await cut(`${left},${right},${mexcNodeText(units)}`);
    }
    if (current !== top.hash) return yield [4, "FAIL", "the computed root hash differs from the file's root", top.hash, current];
    const nonzero = (m) => sorted([...m].filter(([, v]) => v !== 0n).map(([k, v]) => `${k}=${v}`)).join(";");
    if (nonzero(units) !== nonzero(top.units)) return yield [4, "FAIL", "the computed root balances differ", mexcNodeText(top.units), mexcNodeText(units)];
    yield [4, "PASS", `root ${current}`];
    const anchor = anchored(5, root, current);
    yield anchor;
    if (anchor[1] === "FAIL") return;
    yield finding(6, "truncated-hash", "hashes are full SHA-256", "hashes are cut to 128 bits: a forged node matching a real one is far easier to find");
    yield finding(6, "user-secret", "the leaf holds a secret of the user's", "anyone with your account id and balances can recompute your leaf: the account id is in the clear");
    const nodes = [["self", leaf], ...path.map((n, i) => [`pathList[${i}]`, n])];
    yield negatives(nodes.flatMap(([where, n]) => sorted([...n.units].filter(([, v]) => v < 0n).map(([k]) => k)).map((k) => `${where} ${k}`)), 6);
  }

  /* CoinEx (root, self, path): reserves.formats.coinex. */
  const COINEX_STEPS = {
    1: ["parse", "the file parses; amounts are plain decimals"],
    2: ["climb", "climbing from your nonce and balances gives the root"],
    3: ["root-published", "the root is the published one"],
  };
  function coinexBalances(value, where) {
    if (!isMap(value) || ![...value.keys()].every((k) => k && ascii(k))) fail(where, "expected an object of amounts by coin");
    return new Map([...value].map(([k, v]) => [k, decimal(v, 30, true, `${where}.${k}`)]));
  }
  const coinexJson = (units) => "{" + sorted(units.keys()).map((k) => `${JSON.stringify(k)}:${JSON.stringify(stripZeros(units.get(k), 30))}`).join(",") + "}";
  async function* coinexCheck(doc, root) {
    const own = doc.get("self"), top = doc.get("root"), list = doc.get("path");
    if (!isMap(own) || own.size !== 2 || !own.has("balances") || typeof own.get("nonce") !== "string") fail("proof $.self", "expected balances and a nonce");
    if (!isMap(top) || top.size !== 2 || !top.has("balances") || !top.has("hash")) fail("proof $.root", "expected balances and hash");
    if (!Array.isArray(list) || list.length > 64) fail("proof $.path", "expected an array of at most 64 entries");
    const path = list.map((item, i) => {
      const where = `proof $.path[${i}]`;
      if (isMap(item) && item.size === 0) return null;
      if (!isMap(item) || item.size !== 3 || !["balances", "hash", "pos"].every((k) => item.has(k)) || !["left", "right"].includes(item.get("pos"))) fail(where, "expected {} or balances, hash and pos (left or right)");
      return { hash: hex64(item.get("hash"), `${where}.hash`), left: item.get("pos") === "left", units: coinexBalances(item.get("balances"), `${where}.balances`) };
    });
    const mine = coinexBalances(own.get("balances"), "proof $.self.balances");
    const rootHash = hex64(top.get("hash"), "proof $.root.hash");
    const rootUnits = coinexBalances(top.get("balances"), "proof $.root.balances");
    const strip = (m) => Object.fromEntries([...m].map(([k, v]) => [k, stripZeros(v, 30)]));
    yield { balances: strip(mine), totals: strip(rootUnits) };
    yield [1, "PASS", `${path.length} levels`];
    let current = await sha256Text(own.get("nonce") + coinexJson(mine));
    const sums = new Map(mine);
    for (const sibling of path) {
      if (sibling === null) { current = await sha256Text(current + coinexJson(sums)); continue; }
      for (const [k, v] of sibling.units) sums.set(k, (sums.get(k) || 0n) + v);
      const [left, right] = sibling.left ? [sibling.hash, current] : [current, sibling.hash];
      current = await sha256Text(left + right + coinexJson(sums));
    }
    if (current !== rootHash) return yield [2, "FAIL", "the computed root hash differs from the file's root", rootHash, current];
    if (coinexJson(sums) !== coinexJson(rootUnits)) return yield [2, "FAIL", "the computed root balances differ", coinexJson(rootUnits), coinexJson(sums)];
    yield [2, "PASS", `root ${current}`];
    const anchor = anchored(3, root, current);
    yield anchor;
    if (anchor[1] === "FAIL") return;
    const nodes = [["self", mine], ...path.map((n, i) => (n ? [`path[${i}]`, n.units] : null)).filter(Boolean)];
    yield negatives(nodes.flatMap(([where, m]) => sorted([...m].filter(([, v]) => v < 0n).map(([k]) => k)).map((k) => `${where} ${k}`)), 4);
  }


  /* Bybit (self with userHash, path): reserves.formats.bybit, the asset-list versions whose
   * order is known (window.reservesConstants.bybitVersions, written into the page from the same lists). */
  const BYBIT_STEPS = {
    1: ["parse", "the file parses; amounts are plain decimals"],
    2: ["leaf", "the leaf recomputes from the user hash and the balances"],
    3: ["path-shape", "the path is well formed"],
    4: ["climb", "climbing the path gives the root"],
    5: ["root-published", "the root is the published one"],
  };
  class CannotCheckHere extends Error {}
  function bybitNode(value, where, fields) {
    if (!isMap(value) || ![...value.keys()].every((k) => fields.includes(k)) || !["type", "hash", "height", "balance"].every((k) => value.has(k))) {
      fail(where, `expected an object of ${[...fields].sort().join(", ")}`);
    }
    for (const key of ["type", "height"]) {
      const v = value.get(key);
      if (typeof v !== "bigint" || v > 256n) fail(`${where}.${key}`, `${key} must be an integer from 0 to 256`);
    }
    hex64(value.get("hash"), `${where}.hash`);
    const raw = value.get("balance");
    if (!isMap(raw) || raw.size === 0 || ![...raw.values()].every((v) => typeof v === "string")) fail(`${where}.balance`, "expected an object of amounts by asset");
    const units = new Map([...raw].map(([k, v]) => [k, decimal(v, 18, true, `${where}.balance.${k}`)]));
    return { type: Number(value.get("type")), height: Number(value.get("height")), hash: value.get("hash"), units, text: new Map(raw) };
  }
  async function* bybitCheck(doc, root) {
    const own = doc.get("self");
    hex64(own.get("userHash"), "proof $.self.userHash");
    const leaf = bybitNode(own, "proof $.self", ["auditId", "type", "hash", "height", "nonce", "userHash", "balance"]);
    const list = doc.get("path");
    if (!Array.isArray(list) || list.length < 2) fail("proof $.path", "expected an array of the siblings and the root");
    const path = list.map((item, i) => bybitNode(item, `proof $.path[${i}]`, ["auditId", "type", "hash", "height", "nonce", "balance"]));
    const versions = window.reservesConstants.bybitVersions;
    const sameSet = (order) => order.length === leaf.units.size && order.every((a) => leaf.units.has(a));
    const version = Object.keys(versions).find((name) => sameSet(versions[name]));
    if (version === undefined) throw new CannotCheckHere(`a Bybit proof of an asset list whose order is not known here (${leaf.units.size} assets)`);
    path.forEach((node, i) => { if (node.units.size !== leaf.units.size || ![...node.units.keys()].every((a) => leaf.units.has(a))) fail(`proof $.path[${i}].balance`, "the assets differ from the user's"); });
    const order = versions[version];
    const places = (a) => (version === "original" && (a === "USDT" || a === "USDC") ? 4 : 8);
    yield { balances: Object.fromEntries(leaf.text), totals: Object.fromEntries(path[path.length - 1].text), title: `Bybit Merkle proof (${version})` };
    yield [1, "PASS", `asset list ${version}: ${order.length} assets`];
    const computed = await sha256Text(own.get("userHash") + order.map((a) => leaf.text.get(a)).join(""));
    if (computed !== leaf.hash) return yield [2, "FAIL", "self.hash is not SHA-256(userHash || balances)", computed, leaf.hash];
    yield [2, "PASS", computed];
    if (![1, 2].includes(leaf.type) || leaf.height !== 1) return yield [3, "FAIL", "self must be a left or right leaf at height 1", "type 1 or 2, height 1", `type ${leaf.type}, height ${leaf.height}`];
    for (let i = 0; i < path.length; i++) {
      const last = i === path.length - 1, node = path[i];
      if (last !== (node.type === 3) || ![1, 2, 3].includes(node.type)) return yield [3, "FAIL", `path[${i}]: the root is last and only last`, last ? "type 3 last" : "type 1 or 2", `type ${node.type}`];
      if (node.height !== i + 1) return yield [3, "FAIL", `path[${i}]: heights must rise by one`, `${i + 1}`, `${node.height}`];
    }
    const top = path[path.length - 1];
    yield [3, "PASS", `${path.length - 1} siblings, root at height ${top.height}`];
    let current = leaf.hash, sums = new Map(leaf.units);
    for (const node of path.slice(0, -1)) {
      const texts = new Map(order.map((a) => [a, fixedPlaces(sums.get(a) + node.units.get(a), 18, places(a))]));
      sums = new Map(order.map((a) => [a, decimal(texts.get(a), 18, true, "sum")]));
      const [left, right] = node.type === 1 ? [node.hash, current] : [current, node.hash];
      current = await sha256Text(left + right + order.map((a) => texts.get(a)).join("") + String(node.height + 1));
    }
    if (current !== top.hash) return yield [4, "FAIL", "the computed root hash differs from the file's root", top.hash, current];
    const wrong = order.find((a) => fixedPlaces(sums.get(a), 18, places(a)) !== top.text.get(a));
    if (wrong !== undefined) return yield [4, "FAIL", `the computed root balance of ${wrong} differs (Bybit compares them as written)`, top.text.get(wrong), fixedPlaces(sums.get(wrong), 18, places(wrong))];
    yield [4, "PASS", `root ${current}`];
    const anchor = anchored(5, root, current);
    yield anchor;
    if (anchor[1] === "FAIL") return;
    yield finding(6, "user-secret", "the leaf is tied to something the user knows", "the leaf is made from an opaque userHash whose derivation Bybit does not publish: you cannot check that this leaf is yours");
    const nodes = [["self", leaf], ...path.map((n, i) => [`path[${i}]`, n])];
    yield negatives(nodes.flatMap(([where, n]) => order.filter((a) => n.units.get(a) < 0n).map((a) => `${where} ${a}`)), 6);
  }


  /* SwissBorg (audit_id, liabilities, user_id) with its audit roots file and the user's
   * credential: reserves.formats.swissborg (HMAC-SHA256 through WebCrypto). */
  const SWISSBORG_STEPS = {
    1: ["parse", "both files parse; amounts are positive plain decimals"],
    2: ["audit-commitment", "the audit commitment recomputes from its partitions"],
    3: ["audit-identity", "the user file is for this audit and its partitions"],
    4: ["leaves", "each leaf recomputes from your credential and climbs to its partition's root"],
    5: ["root-published", "the audit is the published one"],
  };
  const encoder = new TextEncoder();
  async function hmacHex(key, message) {
    const imported = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", imported, encoder.encode(message)));
    return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function sbText(value, where) {
    if (typeof value !== "string" || !value || value.includes(",")) fail(where, "expected a non-empty string without commas");
    return value;
  }
  const sbUnits = (text, where) => decimal(text, 30, false, where);
  const sbFormat = (units) => stripZeros(units, 30);
  function sbLeaves(doc) {
    const list = doc.get("liabilities");
    if (!Array.isArray(list) || list.length === 0) fail("proof", "expected audit_id, user_id and a non-empty array of liabilities");
    const leaves = list.map((item, i) => {
      const where = `proof $.liabilities[${i}]`;
      const proof = isMap(item) ? item.get("proof") : undefined;
      if (!isMap(proof) || !Array.isArray(proof.get("witnesses"))) fail(where, "expected audit_partition_id, liability and a proof with witnesses");
      const index = proof.get("leaf_index"), witnesses = proof.get("witnesses");
      if (typeof index !== "bigint" || index >= 1n << BigInt(witnesses.length)) fail(`${where}.proof`, "leaf_index must be an integer below 2^(number of witnesses)");
      const parsed = witnesses.map((w, j) => {
        if (!isMap(w)) fail(`${where}.proof.witnesses[${j}]`, "expected an object with digest and liability");
        return { digest: hex64(w.get("digest"), `${where}.proof.witnesses[${j}].digest`), liability: sbUnits(w.get("liability"), `${where}.proof.witnesses[${j}].liability`) };
      });
      return { partition: sbText(item.get("audit_partition_id"), `${where}.audit_partition_id`), liability: sbUnits(item.get("liability"), `${where}.liability`), index, witnesses: parsed };
    });
    return { auditId: sbText(doc.get("audit_id"), "proof $.audit_id"), userId: sbText(doc.get("user_id"), "proof $.user_id"), leaves };
  }
  function sbAudit(doc) {
    const audit = doc.size === 1 ? doc.get("audit") : undefined;
    if (!isMap(audit) || !["commitment", "id", "partitions"].every((k) => audit.has(k))) fail("audit roots", "expected SwissBorg's audit roots: audit with commitment, id and partitions");
    const partitions = new Map();
    (Array.isArray(audit.get("partitions")) ? audit.get("partitions") : []).forEach((item, i) => {
      const where = `audit roots $.audit.partitions[${i}]`;
      if (!isMap(item) || !isMap(item.get("commitment"))) fail(where, "expected an object with commitment, currency and id");
      const commitment = item.get("commitment");
      const partition = {
        id: sbText(item.get("id"), `${where}.id`), currency: sbText(item.get("currency"), `${where}.currency`),
        liability: sbUnits(commitment.get("liability"), `${where}.commitment.liability`), digest: hex64(commitment.get("digest"), `${where}.commitment.digest`),
      };
      partitions.set(partition.id, partition);
    });
    if (partitions.size === 0) fail("audit roots $.audit.partitions", "expected a non-empty array of partitions");
    const commitment = audit.get("commitment");
    const digest = hex64(isMap(commitment) ? commitment.get("digest") : undefined, "audit roots $.audit.commitment.digest");
    return { id: sbText(audit.get("id"), "audit roots $.audit.id"), digest, partitions };
  }
  async function* swissborgCheck(doc, root, options) {
    const { auditId, userId, leaves } = sbLeaves(doc);
    const audit = sbAudit(options.published);
    const held = new Map();
    for (const leaf of leaves) {
      const partition = audit.partitions.get(leaf.partition);
      const currency = partition ? partition.currency : leaf.partition;
      held.set(currency, (held.get(currency) || 0n) + leaf.liability);
    }
    const totals = Object.fromEntries([...audit.partitions.values()].filter((p) => held.has(p.currency)).map((p) => [p.currency, sbFormat(p.liability)]));
    yield { balances: Object.fromEntries([...held].map(([c, u]) => [c, sbFormat(u)])), totals };
    yield [1, "PASS", `${leaves.length} leaves in ${new Set(leaves.map((l) => l.partition)).size} partitions`];
    const parts = [...audit.partitions.values()].map((p, i) => [p.currency.toUpperCase(), i, p]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1])).map((x) => x[2]);
    const computed = await sha256Text("SB PoL - Audit commitment hash" + parts.map((p) => `,${p.id},${sbFormat(p.liability)},${p.digest}`).join(""));
    if (computed !== audit.digest) return yield [2, "FAIL", "the commitment does not recompute from the partitions", audit.digest, computed];
    yield [2, "PASS", `${computed} over ${parts.length} partitions`];
    if (auditId !== audit.id) return yield [3, "FAIL", "the user file is for another audit", audit.id, auditId];
    const unknown = leaves.find((l) => !audit.partitions.has(l.partition));
    if (unknown) return yield [3, "FAIL", "a partition of the user file is not in the audit", "a listed partition", unknown.partition];
    yield [3, "PASS", `audit ${audit.id}`];
    const auditNonce = await hmacHex(options.credential, "SB PoL - Audit nonce derivation," + audit.id);
    for (let number = 0; number < leaves.length; number++) {
      const leaf = leaves[number], partition = audit.partitions.get(leaf.partition);
      if (leaf.liability <= 0n || leaf.witnesses.some((w) => w.liability <= 0n)) return yield [4, "FAIL", `leaf ${number}: amounts must be positive`, "> 0", "0"];
      const treeNonce = await hmacHex(auditNonce, "SB PoL - Currency Merkle tree nonce derivation," + partition.currency);
      const nonce = await hmacHex(treeNonce, `SB PoL - Leaf nonce derivation,${leaf.index}`);
      let digest = await sha256Text(`leaf,${nonce},${userId},${sbFormat(leaf.liability)}`);
      let index = leaf.index + (1n << BigInt(leaf.witnesses.length)) - 1n, total = leaf.liability;
      for (const witness of leaf.witnesses) {
        const mine = sbFormat(total), theirs = sbFormat(witness.liability);
        digest = index % 2n === 1n ? await sha256Text(`inner,${mine},${theirs},${digest},${witness.digest}`) : await sha256Text(`inner,${theirs},${mine},${witness.digest},${digest}`);
        total += witness.liability;
        index = (index - 1n) / 2n;
      }
      if (digest !== partition.digest || total !== partition.liability) {
        return yield [4, "FAIL", `leaf ${number} (${partition.currency}) does not climb to its partition's root (is the credential yours?)`, `${partition.digest} (${sbFormat(partition.liability)})`, `${digest} (${sbFormat(total)})`];
      }
    }
    yield [4, "PASS", `${leaves.length} leaves climb to their partitions' roots`];
    if (!root) return yield [5, "PASS", `the root of the published tree file: ${audit.digest}`];
    yield anchored(5, root, audit.digest);
  }

  window.reservesFormats.push(
    { name: "swissborg", title: "SwissBorg proof of liabilities", steps: SWISSBORG_STEPS, anchorStep: 5, digits: 64, signed: false, fractional: false,
      published: "audit roots", recognises: (doc) => doc.size === 3 && ["audit_id", "liabilities", "user_id"].every((k) => doc.has(k)), check: swissborgCheck },
    { name: "bybit", title: "Bybit Merkle proof", steps: BYBIT_STEPS, anchorStep: 5, digits: 64, signed: false, fractional: false,
      recognises: (doc) => doc.size === 2 && doc.has("self") && doc.has("path") && isMap(doc.get("self")) && doc.get("self").has("userHash"), check: bybitCheck },
    { name: "mexc", title: "MEXC Merkle proof", steps: MEXC_STEPS, anchorStep: 5, digits: 32, signed: false, fractional: false,
      recognises: (doc) => doc.size === 2 && doc.has("self") && doc.has("pathList"), check: mexcCheck },
    { name: "coinex", title: "CoinEx Merkle proof", steps: COINEX_STEPS, anchorStep: 3, digits: 64, signed: false, fractional: false,
      recognises: (doc) => doc.size === 3 && doc.has("root") && doc.has("self") && doc.has("path"), check: coinexCheck },
  );
  window.reservesFormatHelpers = { decimal, sorted, finding, isMap, ascii, CannotCheckHere };
})();
