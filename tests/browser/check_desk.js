// The desk in headless Chromium (see check_desk.sh). Exits 1 when a check fails.
"use strict";
const { chromium } = require("playwright-core");
const http = require("http");

const url = process.argv[2];
let failed = 0;
const ok = (what) => process.stderr.write("ok   " + what + "\n");
const bad = (what) => { process.stderr.write("FAIL " + what + "\n"); failed++; };
const check = (cond, what) => (cond ? ok(what) : bad(what));

function status(u) {
  return new Promise((resolve) => http.get(u, (r) => { r.resume(); resolve(r.statusCode); }).on("error", () => resolve(0)));
}

async function waitData(page, name, atLeast) {
  await page.waitForFunction(([n, v]) => Number(document.body.dataset[n] || 0) >= v, [name, atLeast], { timeout: 30000 });
}

async function previewText(page, expect) {
  await page.waitForFunction((e) => document.getElementById("preview").textContent.includes(e), expect, { timeout: 10000 }).catch(() => {});
  return page.textContent("#preview");
}

async function writeItem(page, out) {
  await page.click("#new");
  await page.selectOption("#section", "result");
  await page.selectOption("#area", "THANH_TRA");
  await page.fill("#text", "Bàn làm việc: tiến hành ");
  await page.selectOption("#indicator", "THANHTRA_CUOC");
  await page.selectOption("#field", "");
  await page.click("#insert");
  await page.type("#text", " cuộc thanh tra, đạt ");
  await page.selectOption("#field", "pct");
  await page.click("#insert");
  await page.type("#text", " Kế hoạch năm.");
  await page.fill('#values input[data-code="THANHTRA_CUOC"]', "2");
  out.text = await page.inputValue("#text");
  check(out.text.includes("{THANHTRA_CUOC}") && out.text.includes("{THANHTRA_CUOC.pct}"), "the form inserted the placeholders: " + out.text);
  out.preview = await previewText(page, "tiến hành 03 cuộc");
  check(out.preview.includes("tiến hành 03 cuộc thanh tra, đạt "), "the preview prints the figures as the report does: " + out.preview);
  out.item_key = await page.inputValue("#item-key");
  out.update_id = await page.textContent("#update-id");
}

async function sendTwice(page, out) {
  // two presses at once: the second finds the first on its way (or the same id) and sends nothing new
  await page.evaluate(() => { const b = document.getElementById("send"); b.click(); b.click(); });
  await waitData(page, "sends", 1);
  await page.waitForSelector("#outcomes .outcome");
  out.first = await page.getAttribute("#outcomes .outcome", "data-outcome");
  check(out.first === "STORED", "the first send is STORED: " + (await page.textContent("#outcomes")));
  await page.click("#send");
  await waitData(page, "sends", 2);
  out.second = await page.getAttribute("#outcomes .outcome", "data-outcome");
  check(out.second === "DUPLICATE", "pressing Gửi again sends the same id: " + out.second);
  check((await page.textContent("#update-id")) === out.update_id, "the update id stayed the form's");
  const row = await page.textContent(`#items tr[data-item-key="${out.item_key}"]`).catch(() => "");
  check(row.includes("Đã lưu"), "the item is in the unit's list, stored: " + row);
}

async function refused(page, out) {
  await page.click("#new");
  await page.selectOption("#area", "THANH_TRA");
  await page.fill("#text", "Số liệu gõ tay {KHONG_CO_CHI_TIEU} không có trong danh mục.");
  await page.click("#send");
  await waitData(page, "sends", 3);
  out.refusal = await page.textContent("#outcomes .outcome");
  check(out.refusal.includes("Chỉ tiêu không có trong danh mục (unknown_indicator)"), "a refusal shows its reason: " + out.refusal);
  out.refused_key = await page.inputValue("#item-key");
}

// The page's round trips, measured in the page (median of 20): the state and a preview.
async function measure(page, out) {
  out.timings_ms = await page.evaluate(async () => {
    const t = new URLSearchParams(location.search).get("token");
    const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
    const time = async (f) => { const a = []; for (let i = 0; i < 20; i++) { const t0 = performance.now(); await f(); a.push(performance.now() - t0); } return Math.round(med(a) * 10) / 10; };
    const state = await time(() => fetch("/api/state?period=2018-07&token=" + t).then((r) => r.json()));
    const body = JSON.stringify({ period: "2018-07", text: "{THANHTRA_CUOC} cuộc, đạt {THANHTRA_CUOC.pct}", values: { THANHTRA_CUOC: 2 } });
    const preview = await time(() => fetch("/api/preview?token=" + t, { method: "POST", body }).then((r) => r.json()));
    return { state, preview };
  });
  ok("median round trips: state " + out.timings_ms.state + " ms, preview " + out.timings_ms.preview + " ms");
}

// Amends the desk's item (the next revision, a new figure) and withdraws a sample item.
async function amendAndWithdraw(page, out) {
  await page.click(`#items tr[data-item-key="${out.item_key}"] button:text("Sửa")`);
  check((await page.textContent("#form-mode")).includes("lần sửa 1"), "Sửa opens the next revision");
  await page.fill('#values input[data-code="THANHTRA_CUOC"]', "3");
  out.amended_preview = await previewText(page, "tiến hành 04 cuộc");
  check(out.amended_preview.includes("tiến hành 04 cuộc"), "the amendment's preview counts its figure once: " + out.amended_preview);
  await page.click("#send");
  await waitData(page, "sends", 4);
  out.amended = await page.getAttribute("#outcomes .outcome", "data-outcome");
  check(out.amended === "STORED", "the amendment is STORED");
  const row = await page.textContent(`#items tr[data-item-key="${out.item_key}"]`);
  check(/1 \(2 bản\)/.test(row), "the list shows revision 1 of 2 versions: " + row);
  await page.click(`#items tr[data-item-key="${out.withdraw_key}"] button:text("Rút")`);
  await page.click("#send");
  await waitData(page, "sends", 5);
  out.withdrawn = await page.getAttribute("#outcomes .outcome", "data-outcome");
  const gone = await page.textContent(`#items tr[data-item-key="${out.withdraw_key}"]`);
  check(out.withdrawn === "STORED" && gone.includes("Đã rút"), "the withdrawn item shows Đã rút: " + gone);
}

(async () => {
  const out = {};
  const base = new URL(url);
  const noToken = base.origin + "/";
  check((await status(noToken)) === 403, "no token: 403");
  check((await status(base.origin + "/api/state?period=2018-07&token=wrong")) === 403, "a wrong token: 403");
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  const page = await browser.newPage({ locale: "vi-VN" });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  try {
    await page.goto(url + "&period=2018-07");
    await waitData(page, "loaded", 1);
    out.unit = await page.textContent("#unit-name");
    check(out.unit.includes("Thanh tra"), "the page shows the unit: " + out.unit);
    check((await page.textContent("#indicators")).includes("Cuộc thanh tra được triển khai"), "the indicators are listed with their labels");
    await writeItem(page, out);
    await sendTwice(page, out);
    await refused(page, out);
    out.withdraw_key = process.env.DESK_WITHDRAW_KEY || "tt-2018-07-nv-thanhtra-1";
    await amendAndWithdraw(page, out);
    await measure(page, out);
    if (process.env.DESK_SHOT) await page.screenshot({ path: process.env.DESK_SHOT, fullPage: true });
  } catch (e) {
    bad("the page: " + e);
  }
  check(errors.length === 0, "no error in the page: " + errors.join(" | "));
  await browser.close();
  process.stdout.write(JSON.stringify(out) + "\n");
  process.exit(failed ? 1 : 0);
})();
