// The dashboard page: keeps the samples the server streams (/events) and
// draws them as SVG line charts and tables. No dependency, no build step.
// Every text from the state file goes through textContent, never as HTML.
"use strict";

const SHOWN = 120; // samples on the charts
const COLORS = ["#2f6fdf", "#e0662f", "#2e9e5b", "#b23fb5", "#c9a227", "#1b9aaa", "#d6455d", "#6b5bd6"];
const SVG = "http://www.w3.org/2000/svg";
const samples = [];

const $ = (id) => document.getElementById(id);
const label = (d) => (d.device ? `${d.device.id}: ${d.device.name}` : d.key);
const percent = (fraction) => (fraction === undefined ? "-" : `${(fraction * 100).toFixed(1)}%`);
const perSecond = (rate) => (rate === undefined ? "-" : rate.toFixed(1));

function element(tag, attributes = {}, text) {
  const node = tag === "svg" || ["line", "polyline", "text"].includes(tag) ? document.createElementNS(SVG, tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function cell(text, attributes = {}) {
  const number = typeof text === "number";
  return element("td", { ...attributes, class: `${attributes.class ?? ""}${number ? " number" : ""}`.trim() }, text);
}

function row(cells, attributes = {}) {
  const tr = element("tr", attributes);
  tr.append(...cells);
  return tr;
}

// Line chart of `series` ({name, color, points: [[time, value]]}) over the shown window.
function chart(svg, legend, series, { floor, unit }) {
  const width = 640, height = 220, left = 44, right = 8, top = 8, bottom = 22;
  const end = samples.at(-1).stats.time;
  const start = Math.min(samples[0].stats.time, end - 10000);
  const peak = Math.max(floor, ...series.flatMap((s) => s.points.map(([, v]) => v)));
  const scale = niceCeiling(peak);
  const x = (t) => left + ((t - start) / (end - start)) * (width - left - right);
  const y = (v) => height - bottom - (v / scale) * (height - top - bottom);
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  for (let i = 0; i <= 4; i++) {
    const value = (scale * i) / 4;
    svg.append(element("line", { class: i ? "grid" : "axis", x1: left, x2: width - right, y1: y(value), y2: y(value) }));
    svg.append(element("text", { x: left - 4, y: y(value) + 4, "text-anchor": "end" }, `${+value.toFixed(1)}${unit}`));
  }
  svg.append(element("text", { x: left, y: height - 4 }, `-${Math.round((end - start) / 1000)}s`));
  svg.append(element("text", { x: width - right, y: height - 4, "text-anchor": "end" }, "now"));
  legend.replaceChildren();
  for (const s of series) {
    const points = s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    svg.append(element("polyline", { points, fill: "none", stroke: s.color, "stroke-width": 2 }));
    const values = s.points.map(([, v]) => v);
    const item = element("li", { "data-series": s.name, "data-peak": Math.max(0, ...values) });
    const swatch = element("span", { class: "swatch" });
    swatch.style.background = s.color;
    item.append(swatch, `${s.name}: ${(values.at(-1) ?? 0).toFixed(1)}${unit}`);
    legend.append(item);
  }
}

// The smallest of 1, 2, 5 × 10^k at or above `value`.
function niceCeiling(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= value);
}

// The series of `pick(rates)` per key, over the shown samples that have rates.
function series(keys, pick) {
  return keys.map(({ key, name }, i) => ({
    name,
    color: COLORS[i % COLORS.length],
    points: samples.filter((s) => s.rates).map((s) => [s.stats.time, pick(s.rates, key) ?? 0]),
  }));
}

function render() {
  const { stats, rates } = samples.at(-1);
  const rateOf = (key) => rates?.devices.find((r) => r.key === key);
  const ok = stats.devices.reduce((n, d) => n + d.ok, 0);
  const failed = stats.devices.reduce((n, d) => n + d.failed, 0);
  const summary = $("summary");
  summary.replaceChildren(
    `${stats.processes.length} live processes · requests ok `, element("b", { "data-total": "ok" }, ok),
    " · failed ", element("b", { "data-total": "failed" }, failed),
    ` · ${stats.stateDir} · ${new Date(stats.time).toLocaleTimeString()}`,
  );

  $("devices").tBodies[0].replaceChildren(...stats.devices.map((d) => {
    const r = rateOf(d.key);
    return row([
      cell(label(d)), cell(d.bitstream ?? "-"), cell(d.mode), cell(d.lessee ?? "-"), cell(d.users.join(", ") || "-"),
      cell(d.queueDepth), cell(d.waiting), cell(d.reconfigurations), cell(perSecond(r?.requestsPerSecond)), cell(percent(r?.busy)),
    ], { "data-device": d.key });
  }));
  $("kernels").tBodies[0].replaceChildren(...stats.devices.flatMap((d) => d.kernels.map((k) => {
    const r = rateOf(d.key)?.kernels.find((x) => x.accelerator === k.accelerator);
    return row([
      cell(label(d)), cell(k.accelerator), cell(k.ok, { "data-field": "ok" }),
      cell(k.failed, { "data-field": "failed", class: k.failed ? "failed nonzero" : "failed" }),
      cell(perSecond(r?.requestsPerSecond), { "data-field": "rps" }), cell(percent(r?.busy), { "data-field": "busy" }),
    ], { "data-device": d.key, "data-accelerator": k.accelerator });
  })));

  const devices = stats.devices.map((d) => ({ key: d.key, name: label(d) }));
  const kernels = stats.devices.flatMap((d) => d.kernels.map((k) => ({ key: [d.key, k.accelerator], name: `${k.accelerator} on ${label(d)}` })));
  chart($("chart-busy"), $("legend-busy"),
    series(devices, (r, key) => (r.devices.find((d) => d.key === key)?.busy ?? 0) * 100), { floor: 100, unit: "%" });
  chart($("chart-rps"), $("legend-rps"),
    series(kernels, (r, [key, accelerator]) => r.devices.find((d) => d.key === key)?.kernels.find((k) => k.accelerator === accelerator)?.requestsPerSecond),
    { floor: 1, unit: "" });
}

function connect() {
  const status = $("status");
  const events = new EventSource("events");
  events.addEventListener("reset", () => (samples.length = 0));
  events.onopen = () => {
    status.textContent = "live";
    status.className = "status live";
  };
  events.onerror = () => {
    status.textContent = "disconnected, retrying…";
    status.className = "status down";
  };
  events.onmessage = (message) => {
    samples.push(JSON.parse(message.data));
    if (samples.length > SHOWN) samples.shift();
    render();
  };
}

connect();
