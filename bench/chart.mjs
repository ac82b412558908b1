// Renders bench/results/crdt.json as an SVG bar chart (log scales): time for
// the hub to take every update and sync every replica, and bytes per update.
const COLORS = ['#1b9e77', '#66a61e', '#d95f02', '#7570b3', '#e7298a', '#a6761d'];

function panel(doc, metric, title, unit, x0, width, height) {
  const rows = doc.results.filter((r) => r.scenario === 'counter');
  const libraries = [...new Set(rows.map((r) => r.library))];
  const groups = [...new Set(rows.map((r) => r.replicas))];
  const values = rows.map((r) => r[metric]).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)));
  const top = 40;
  const plotH = height - top - 40;
  const y = (v) => top + plotH - ((Math.log10(v) - lo) / (hi - lo)) * plotH;
  const groupW = width / groups.length;
  const barW = (groupW - 20) / libraries.length;
  let svg = `<text x="${x0 + width / 2}" y="20" text-anchor="middle" font-weight="bold">${title}</text>`;
  for (let e = lo; e <= hi; e++) {
    svg += `<line x1="${x0}" x2="${x0 + width}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#ddd"/>`;
    svg += `<text x="${x0 - 4}" y="${y(10 ** e) + 4}" text-anchor="end" font-size="10">${10 ** e >= 1 ? (10 ** e).toLocaleString('en') : 10 ** e} ${unit}</text>`;
  }
  groups.forEach((n, g) => {
    libraries.forEach((lib, l) => {
      const r = rows.find((x) => x.replicas === n && x.library === lib);
      if (!r) return;
      const x = x0 + g * groupW + 10 + l * barW;
      svg += `<rect x="${x}" y="${y(r[metric])}" width="${barW - 2}" height="${top + plotH - y(r[metric])}" fill="${COLORS[l % COLORS.length]}"><title>${lib}, N=${n}: ${r[metric].toFixed(2)} ${unit}</title></rect>`;
    });
    svg += `<text x="${x0 + g * groupW + groupW / 2}" y="${top + plotH + 16}" text-anchor="middle" font-size="11">N = ${n} replicas</text>`;
  });
  return { svg, libraries };
}

export function renderChart(doc) {
  const width = 900;
  const height = 340;
  const a = panel(doc, 'convergeMs', 'Counter: hub takes 10,000 updates and syncs every replica', 'ms', 70, 360, height);
  const b = panel(doc, 'bytesPerUpdate', 'Counter: bytes on the wire per update', 'B', 530, 340, height);
  const legend = a.libraries
    .map((lib, l) => `<rect x="${70 + l * 150}" y="${height - 14}" width="10" height="10" fill="${COLORS[l % COLORS.length]}"/><text x="${84 + l * 150}" y="${height - 5}" font-size="11">${lib}</text>`)
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 10}" font-family="sans-serif" font-size="12">` +
    `<rect width="100%" height="100%" fill="white"/>${a.svg}${b.svg}${legend}` +
    `<text x="${width - 10}" y="${height + 6}" text-anchor="end" font-size="9" fill="#666">${doc.machine.cpu}, node ${doc.machine.node}, ${doc.date.slice(0, 10)}</text></svg>\n`
  );
}
