// The try-a-model page: pick a model, choose, drop or paste an image, see it and the top classes as bars, and the
// model's card. Everything it asks for comes from this service (the page's Content-Security-Policy allows nothing else).
"use strict";
const $ = id => document.getElementById(id);
let models = [];

function text(tag, value, className) {
  const e = document.createElement(tag);
  e.textContent = value;
  if (className) e.className = className;
  return e;
}

function current() { return models.find(m => m.name === $("model").value) || models[0]; }

function showCard(m) {
  const card = $("card");
  card.replaceChildren();
  const rows = [
    ["Name", m.name], ["Kind", m.kind],
    ["Classes", `${m.classes.length}: ${m.classes.join(", ")}`],
    ["Input", `${m.input.channels}×${m.input.height}×${m.input.width} (${m.input.color}); ${m.input.preparation}`],
    ["Parameters", m.parameters != null ? m.parameters.toLocaleString("en-US") : (m.reference_images != null ? `k-NN over ${m.reference_images.toLocaleString("en-US")} images` : "n/a")],
    ["Test accuracy", m.test_accuracy != null ? `${(m.test_accuracy * 100).toFixed(2)} % (recorded in its run)` : "not recorded"],
    ["Backend", m.backend], ["SHA-256", m.sha256], ["File", `${m.path} (${m.file_bytes.toLocaleString("en-US")} bytes)`],
    ["Loaded", m.loaded_at],
  ];
  for (const [k, v] of rows) { card.append(text("dt", k), text("dd", v)); }
  const link = $("report-link");
  link.hidden = !m.report_url;
  if (m.report_url) link.href = m.report_url;
}

function showResult(prediction) {
  const list = $("results");
  list.replaceChildren();
  for (const c of prediction.top) {
    const li = document.createElement("li");
    li.dataset.label = c.label;
    const track = document.createElement("div");
    track.className = "track";
    const fill = document.createElement("div");
    fill.className = "fill";
    fill.style.width = `${Math.max(0, Math.min(100, c.probability * 100)).toFixed(2)}%`;
    track.append(fill);
    li.append(text("span", c.label, "label"), track, text("span", `${(c.probability * 100).toFixed(1)} %`, "value"));
    list.append(li);
  }
}

function fail(message) {
  $("error").textContent = message;
  $("error").hidden = false;
  $("status").textContent = "";
}

async function predict(file) {
  if (!file) return;
  $("error").hidden = true;
  $("results").replaceChildren();
  const preview = $("preview");
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  preview.alt = file.name || "pasted image";
  $("file-name").textContent = `${file.name || "pasted image"} · ${file.size.toLocaleString("en-US")} bytes`;
  $("status").textContent = "Predicting…";
  const form = new FormData();
  form.append("image", file, file.name || "pasted.png");
  const m = current();
  const started = performance.now();
  try {
    const response = await fetch(`/v1/models/${encodeURIComponent(m.name)}/predict?top=5`, { method: "POST", body: form });
    const body = await response.json();
    if (!response.ok) { fail(`${response.status}: ${body.error}`); return; }
    showResult(body.predictions[0]);
    $("status").textContent = `${m.name} · ${(performance.now() - started).toFixed(0)} ms`;
  } catch (e) {
    fail(`The service did not answer: ${e}`);
  }
}

async function load() {
  const response = await fetch("/v1/models");
  models = (await response.json()).models;
  const select = $("model");
  for (const m of models) select.append(new Option(`${m.name} (${m.kind})`, m.name));
  select.addEventListener("change", () => showCard(current()));
  showCard(current());
  const ready = await fetch("/readyz");
  $("readiness").textContent = ready.ok ? "ready" : "warming up";
}

$("file").addEventListener("change", e => predict(e.target.files[0]));
const drop = $("drop");
drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", e => { e.preventDefault(); drop.classList.remove("over"); predict(e.dataTransfer.files[0]); });
document.addEventListener("paste", e => {
  const item = [...(e.clipboardData?.items || [])].find(i => i.kind === "file" && i.type.startsWith("image/"));
  if (item) predict(item.getAsFile());
});
load().catch(e => fail(`Could not load the models: ${e}`));
