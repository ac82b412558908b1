// SVG bar charts on log scales for the benchmark results: crdt.json (time
// for the hub to take every update and sync every replica, bytes per
// update) and replication.json (updates per second per replica).
const COLORS = ['#1b9e77', '#66a61e', '#d95f02', '#7570b3', '#e7298a', '#a6761d'];

/** Bars of rows[metric], grouped by rows[groupKey], one colour per rows[seriesKey]. */
function panel(rows, { metric, groupKey, seriesKey, groupLabel, series }, title, unit, x0, width, height) {
  const libraries = series ?? [...new Set(rows.map((r) => r[seriesKey]))];
  const groups = [...new Set(rows.map((r) => r[groupKey]))];
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
      const r = rows.find((x) => x[groupKey] === n && x[seriesKey] === lib);
      if (!r) return;
      const x = x0 + g * groupW + 10 + l * barW;
      svg += `<rect x="${x}" y="${y(r[metric])}" width="${barW - 2}" height="${top + plotH - y(r[metric])}" fill="${COLORS[l % COLORS.length]}"><title>${lib}, ${groupLabel(n)}: ${r[metric].toFixed(2)} ${unit}</title></rect>`;
    });
    svg += `<text x="${x0 + g * groupW + groupW / 2}" y="${top + plotH + 16}" text-anchor="middle" font-size="11">${groupLabel(n)}</text>`;
  });
  return { svg, libraries };
}

function render(a, b, doc, width, height) {
  const legend = a.libraries
    .map(
      (lib, l) =>
        `<rect x="${70 + l * 150}" y="${height - 14}" width="10" height="10" fill="${COLORS[l % COLORS.length]}"/><text x="${84 + l * 150}" y="${height - 5}" font-size="11">${lib}</text>`,
    )
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 10}" font-family="sans-serif" font-size="12">` +
    `<rect width="100%" height="100%" fill="white"/>${a.svg}${b.svg}${legend}` +
    `<text x="${width - 10}" y="${height + 6}" text-anchor="end" font-size="9" fill="#666">${doc.machine.cpu}, node ${doc.machine.node}, ${doc.date.slice(0, 10)}</text></svg>\n`
  );
}

export function renderChart(doc) {
  const rows = doc.results.filter((r) => r.scenario === 'counter');
  const by = { groupKey: 'replicas', seriesKey: 'library', groupLabel: (n) => `N = ${n} replicas` };
  const a = panel(rows, { ...by, metric: 'convergeMs' }, 'Counter: hub takes 10,000 updates and syncs every replica', 'ms', 70, 360, 340);
  const b = panel(rows, { ...by, metric: 'bytesPerUpdate' }, 'Counter: bytes on the wire per update', 'B', 530, 340, 340);
  return render(a, b, doc, 900, 340);
}

export function renderReplicationChart(doc) {
  const rows = doc.runs
    .filter((r) => !r.pacedUpdatesPerSecond && (r.counters ?? 65536) === 65536)
    .map((r) => ({ ...r, mups: r.updatesPerSecondPerReplica / 1e6 }));
  const by = {
    groupKey: 'workload',
    seriesKey: 'variant',
    series: [...new Set(rows.map((r) => r.variant))],
    groupLabel: (w) => (w === 'zipf' ? 'Zipf(1.1) over 64K keys' : 'uniform over 64K keys'),
  };
  const a = panel(rows, { ...by, metric: 'mups' }, `${doc.replicas} replica processes: updates/s each holds`, 'M/s', 70, 360, 340);
  const b = panel(
    rows.filter((r) => r.bytesPerUpdate !== null),
    { ...by, metric: 'bytesPerUpdate' },
    'Bytes on the wire per update',
    'B',
    530,
    340,
    340,
  );
  return render(a, b, doc, 900, 340);
}
